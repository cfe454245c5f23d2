"""The payments benchmark's driver (run by scripts/bench-payments; standard library only).

    bench_payments.py stripe BASE N C          localstripe's own create+confirm rate
    bench_payments.py roster BASE KEY N C      POST /v1/payments -> succeeded, end to end

Each prints one line `RESULT rate=<per second>`. Both drive their target from C threads; the
Stripe side uses one customer and one attached card, as Roster does for one member.
"""

import base64
import json
import sys
import threading
import time
import urllib.parse
import urllib.request

SECRET = 'sk_test_roster_bench'


def call(method, url, headers, body=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read() or b'null')


def stripe(base, path, fields=None):
    auth = base64.b64encode((SECRET + ':').encode()).decode()
    headers = {'Authorization': 'Basic ' + auth}
    body = urllib.parse.urlencode(fields).encode() if fields is not None else None
    return call('POST' if body is not None else 'GET', base + path, headers, body)


def in_threads(n, c, work):
    """Runs work(i) for i in 0..n from c threads; returns the seconds it took."""
    lock, next_index = threading.Lock(), [0]

    def worker():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= n:
                return
            work(i)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def bench_stripe(base, n, c):
    customer = stripe(base, '/v1/customers', {'metadata[member_id]': 'bench'})['id']
    method = stripe(base, '/v1/payment_methods/pm_card_visa/attach', {'customer': customer})['id']

    def charge(i):
        intent = stripe(base, '/v1/payment_intents', {
            'amount': '1000', 'currency': 'eur', 'customer': customer,
            'payment_method': method, 'confirm': 'true', 'off_session': 'true',
            'metadata[payment_id]': 'bench-%d' % i, 'metadata[attempt]': '1'})
        assert intent['status'] == 'succeeded', intent

    seconds = in_threads(n, c, charge)
    print('RESULT rate=%.1f' % (n / seconds), flush=True)


def bench_roster(base, key, n, c):
    headers = {'Authorization': 'Bearer ' + key, 'Content-Type': 'application/json'}
    member = call('POST', base + '/v1/members', headers, json.dumps(
        {'email': 'payer-%d@bench.example.com' % time.time_ns(), 'name': 'Payer'}).encode())
    member_id = member['member_id']
    body = json.dumps({'member_id': member_id, 'amount': 1000, 'currency': 'EUR',
                       'payment_method': 'pm_card_visa'}).encode()
    ids = []
    started = time.monotonic()

    def pay(_):
        answer = call('POST', base + '/v1/payments', headers, body)
        ids.append(answer['payment_id'])

    in_threads(n, c, pay)
    # Payments settle roughly in the order they were asked for: wait on the oldest pending one
    # at a time, so that watching costs about one read per payment, not one per payment and
    # poll.
    pending = sorted(ids)
    while pending:
        status = call('GET', base + '/v1/payments/' + pending[0], headers)['status']
        if status == 'succeeded':
            pending.pop(0)
        elif status in ('processing', 'retrying'):
            time.sleep(0.01)
        else:
            raise SystemExit('payment %s ended %s' % (pending[0], status))
    seconds = time.monotonic() - started
    print('RESULT rate=%.1f' % (n / seconds), flush=True)


def main():
    mode = sys.argv[1]
    if mode == 'stripe':
        bench_stripe(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        bench_roster(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))


if __name__ == '__main__':
    main()
