"""localstripe (a fake, stateful Stripe API from PyPI) for the tests, on 127.0.0.1 only.

    PYTHONPATH=.tools/python python3 tests/support/localstripe_launcher.py [PORT] [--verbose]

PORT 0 (the default) picks a free port. Once the socket is bound the launcher prints
`listening on http://127.0.0.1:PORT` on stdout (flushed) and serves until it is killed.

localstripe answers in the shape of an old API version; the launcher patches what it exports so
that async-stripe 1.0 (strict types: every non-optional field must be there) parses it:

* PaymentIntent: `amount_capturable`, `amount_received`, `confirmation_method`,
  `payment_method_types`; `latest_charge` as the charge's id (the object only when expanded);
  no deprecated `charges` list; `last_payment_error` with the `type` an API error must have.
* Charge: `amount_captured`, `billing_details`, `disputed`.
* Refund: `payment_intent` also when the refund was made by charge. A refund takes at most what
  is left of the charge (all of it when no amount is given), as Stripe's do: localstripe would
  refund the full amount again and again.
* Event: `pending_webhooks` and `request`.
* Test cards: Stripe's `pm_card_chargeDeclinedStolenCard` and
  `pm_card_chargeDeclinedInsufficientFunds` attach, then decline at charge time with the
  decline codes `stolen_card` and `insufficient_funds` (localstripe knows neither).
* Errors: card declines answer as Stripe's do, `type` card_error with a `decline_code` and,
  for a PaymentIntent, the intent and its payment method; an unknown id has the code
  `resource_missing`.

It also keeps the state in memory only: localstripe's own CLI saves every change to (and reloads
from) /tmp/localstripe.pickle, which several servers at once would share.
"""

import argparse
import asyncio
import logging
import socket
import sys

from aiohttp import web

from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.resources import Charge, Event, PaymentIntent, PaymentMethod, Refund


def patch_store():
    """State lives in memory only, never in /tmp/localstripe.pickle."""
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None


def wrap_export(cls, patch):
    """`cls._export` then `patch(self, exported, expand)` on what it answered."""
    original = cls._export

    def _export(self, expand=None):
        obj = original(self, expand=expand)
        patch(self, obj, expand or [])
        return obj

    cls._export = _export


def expanded(expand, field):
    return any(path == field or path.startswith(field + '.') for path in expand)


def patch_payment_intent(pi, obj, expand):
    status = obj.get('status')
    obj['amount_capturable'] = pi.amount if status == 'requires_capture' else 0
    obj['amount_received'] = pi.amount if status == 'succeeded' else 0
    obj.setdefault('confirmation_method', 'automatic')
    obj['payment_method_types'] = ['card']
    obj.pop('charges', None)
    charge = obj.get('latest_charge')
    if isinstance(charge, dict) and not expanded(expand, 'latest_charge'):
        obj['latest_charge'] = charge['id']
    error = obj.get('last_payment_error')
    if isinstance(error, dict):
        error = dict(error)
        fill_error(error)
        code = decline_code_of(pi.payment_method)
        if code:
            error['decline_code'] = code
        obj['last_payment_error'] = error


def patch_charge(charge, obj, expand):
    captured = obj.get('captured') and obj.get('status') == 'succeeded'
    obj['amount_captured'] = charge.amount if captured else 0
    obj.setdefault('billing_details', {})
    obj.setdefault('disputed', False)


def patch_refund(refund, obj, expand):
    if obj.get('payment_intent') is None and refund.charge:
        obj['payment_intent'] = Charge._api_retrieve(refund.charge).payment_intent


def patch_event(event, obj, expand):
    obj.setdefault('pending_webhooks', 0)
    obj.setdefault('request', {'id': None, 'idempotency_key': None})


def fill_error(error):
    """An API error as Stripe words it: declines are card errors with a decline code."""
    if error.get('code') == 'card_declined':
        error['type'] = 'card_error'
        error.setdefault('decline_code', 'generic_decline')
    elif error.get('code') == 'payment_intent_authentication_failure':
        error.setdefault('type', 'invalid_request_error')
    else:
        error.setdefault('type', 'api_error')


# Stripe's test payment methods that attach and then decline at charge time for a reason.
DECLINING = {
    'pm_card_chargeDeclinedStolenCard': ('4000000000009979', 'stolen_card'),
    'pm_card_chargeDeclinedInsufficientFunds': ('4000000000009995', 'insufficient_funds'),
}
DECLINE_CODES = {number: code for number, code in DECLINING.values()}


def patch_test_cards():
    original = PaymentMethod._try_get_canonical_test_article.__func__

    def canonical(cls, id):
        if id in DECLINING:
            return PaymentMethod(type='card', card=dict(
                number=DECLINING[id][0], exp_month='12', exp_year='2030', cvc='123'))
        return original(cls, id)

    PaymentMethod._try_get_canonical_test_article = classmethod(canonical)
    attaching, charging = PaymentMethod._attaching_is_declined, PaymentMethod._charging_is_declined
    PaymentMethod._attaching_is_declined = lambda self: (
        False if getattr(self, '_card_number', None) in DECLINE_CODES else attaching(self))
    PaymentMethod._charging_is_declined = lambda self: (
        True if getattr(self, '_card_number', None) in DECLINE_CODES else charging(self))


def decline_code_of(payment_method):
    """The decline code of a test card that declines for a reason, else None."""
    if type(payment_method) is not str:
        return None
    method = resources.store.get('payment_method:' + payment_method)
    return DECLINE_CODES.get(getattr(method, '_card_number', None))


def patch_errors():
    original_init = UserError.__init__

    def __init__(self, code, message=None, contents=None):
        original_init(self, code, message, contents)
        error = self.body['error']
        if code == 404:
            error.setdefault('code', 'resource_missing')
        fill_error(error)

    UserError.__init__ = __init__

    # A PaymentIntent whose charge is declined: the error carries the intent (now
    # `requires_payment_method`) and its payment method, as Stripe's does.
    original_report = PaymentIntent._report_failure

    def _report_failure(self):
        try:
            original_report(self)
        except UserError as e:
            error = e.body['error']
            code = decline_code_of(self.payment_method)
            if code:
                error['decline_code'] = code
            error['payment_intent'] = self._export()
            if self.payment_method:
                try:
                    method = PaymentMethod._api_retrieve(self.payment_method)
                    error['payment_method'] = method._export()
                except UserError:
                    pass
            raise

    PaymentIntent._report_failure = _report_failure


def patch_refunds():
    """A refund takes at most what is left of the charge, and all of it when no amount is given
    (localstripe refunds the whole charge again and again)."""
    original_init = Refund.__init__

    def __init__(self, charge=None, payment_intent=None, amount=None, metadata=None,
                 **kwargs):
        target = charge
        if target is None and type(payment_intent) is str:
            intent = resources.store.get('payment_intent:' + payment_intent)
            if intent is not None and intent.latest_charge is not None:
                target = intent.latest_charge.id
        charge_obj = resources.store.get('charge:%s' % target) if type(target) is str else None
        if not kwargs and charge_obj is not None and charge_obj.status == 'succeeded':
            left = charge_obj.amount - charge_obj.amount_refunded
            wanted = resources.try_convert_to_int(amount)
            if left <= 0:
                raise UserError(400, 'Charge %s has already been refunded.' % target,
                                {'code': 'charge_already_refunded', 'charge': target})
            if amount is None:
                amount = left
            elif type(wanted) is int and wanted > left:
                raise UserError(400, 'Refund amount (%d) is greater than unrefunded amount on '
                                'charge (%d)' % (wanted, left), {'param': 'amount'})
        original_init(self, charge=charge, payment_intent=payment_intent, amount=amount,
                      metadata=metadata, **kwargs)

    Refund.__init__ = __init__


def patch():
    patch_store()
    wrap_export(PaymentIntent, patch_payment_intent)
    wrap_export(Charge, patch_charge)
    wrap_export(Refund, patch_refund)
    wrap_export(Event, patch_event)
    patch_errors()
    patch_refunds()
    patch_test_cards()


async def serve(port, verbose):
    logger = logging.getLogger('aiohttp.access')
    if verbose:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(logging.StreamHandler(sys.stderr))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', port))
    runner = web.AppRunner(server.app, access_log=logger if verbose else None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    print('listening on http://127.0.0.1:%d' % sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('port', type=int, nargs='?', default=0)
    parser.add_argument('--verbose', action='store_true',
                        help='log every request and webhook delivery on stderr')
    args = parser.parse_args()
    patch()
    try:
        asyncio.run(serve(args.port, args.verbose))
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
