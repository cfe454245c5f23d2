//! Generations of a projection's tables. Each logical table `t` has physical tables `t_g<n>`
//! and a view `t` on the live one. A rebuild fills generation n+1 while n keeps serving, then
//! one transaction repoints the views and hands the checkpoint over; readers never see a
//! half-built table, and nothing is ever truncated in place.

use roster_sql::{Db, Stmt};

use crate::projection::DynProjection;
use crate::rows::{Col, TableDef, Val, physical};
use crate::{ProjectionError, State};

/// A projection generation and its checkpoint, as the runner works on it.
#[derive(Clone)]
pub struct Slot {
    pub projection: DynProjection,
    pub generation: i64,
    pub position: u64,
    pub state: State,
    /// Whether this is the live generation (its checkpoint is also guarded by the live row).
    pub live: bool,
    /// Whether its tables were built by this build's version of the projection. An outdated
    /// live generation keeps serving, unchanged, until a rebuild replaces it.
    pub current: bool,
}

impl Slot {
    pub fn name(&self) -> &'static str {
        self.projection.name()
    }
}

/// What a generation's tables were built by: the table definitions and the projection's
/// revision, hashed (FNV-1a). A change to either makes the live generation outdated, and
/// start-up rebuilds it in the background.
pub fn fingerprint(projection: &DynProjection) -> String {
    let mut text = format!("revision {};", projection.revision());
    for table in projection.tables() {
        text.extend(table.ddl(0));
    }
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The bookkeeping tables (live generations, checkpoints, parked events, operator actions),
/// in the dialect both backends share; run on every start, idempotent.
const SCHEMA: &str = include_str!("schema.sql");

/// Creates the bookkeeping tables if they are missing.
pub async fn install(db: &Db) -> Result<(), ProjectionError> {
    Ok(db.script(SCHEMA).await?)
}

/// Creates generation 1 of every projection that has no live generation yet.
pub async fn ensure(db: &Db, projections: &[DynProjection]) -> Result<(), ProjectionError> {
    let live = db
        .query("SELECT name FROM projection_live", Vec::new())
        .await?;
    let exists = |name: &str| {
        live.iter()
            .any(|row| row.first().and_then(Val::as_text) == Some(name))
    };
    for projection in projections.iter().filter(|p| !exists(p.name())) {
        let name = projection.name();
        let mut stmts = create_tables(projection.tables(), 1, true);
        stmts.extend(point_views(projection.tables(), 1));
        stmts.push(Stmt::new(
            "INSERT INTO projection_live (name, generation) VALUES ($1, 1) ON CONFLICT DO NOTHING",
            vec![Val::text(name)],
        ));
        stmts.push(Stmt::new(
            "INSERT INTO projection_checkpoints (name, generation, position, state, fingerprint) \
             VALUES ($1, 1, 0, 'running', $2) ON CONFLICT DO NOTHING",
            vec![Val::text(name), Val::text(fingerprint(projection))],
        ));
        db.transaction(stmts).await?;
    }
    Ok(())
}

/// The live generation of each projection, with its checkpoint.
pub async fn live_slots(
    db: &Db,
    projections: &[DynProjection],
) -> Result<Vec<Slot>, ProjectionError> {
    let rows = db
        .query(
            "SELECT l.name, l.generation, c.position, c.state, c.fingerprint FROM projection_live l \
             JOIN projection_checkpoints c ON c.name = l.name AND c.generation = l.generation",
            Vec::new(),
        )
        .await?;
    let mut slots = Vec::new();
    for projection in projections {
        let row = rows
            .iter()
            .find(|r| r.first().and_then(Val::as_text) == Some(projection.name()))
            .ok_or_else(|| {
                ProjectionError::NotFound(format!("live generation of {}", projection.name()))
            })?;
        slots.push(Slot {
            projection: projection.clone(),
            generation: int(row, 1)?,
            position: u64::try_from(int(row, 2)?).unwrap_or(0),
            state: State::parse(row.get(3).and_then(Val::as_text).unwrap_or("running")),
            live: true,
            current: row.get(4).and_then(Val::as_text) == Some(fingerprint(projection).as_str()),
        });
    }
    Ok(slots)
}

/// Fresh, empty tables of the next generation, with a checkpoint at 0 in state `rebuilding`.
pub async fn create_shadow(db: &Db, projection: &DynProjection) -> Result<Slot, ProjectionError> {
    let name = projection.name();
    let live = db
        .query(
            "SELECT generation FROM projection_live WHERE name = $1",
            vec![Val::text(name)],
        )
        .await?;
    let live = live.first().map(|r| int(r, 0)).transpose()?.unwrap_or(0);
    let generation = live + 1;
    let mut stmts = Vec::new();
    // An abandoned shadow (a replay that was interrupted) is dropped and started again.
    stmts.push(Stmt::new(
        "DELETE FROM projection_checkpoints WHERE name = $1 AND generation <> $2",
        vec![Val::text(name), Val::Int(live)],
    ));
    stmts.extend(drop_tables(projection.tables(), generation));
    stmts.extend(
        projection
            .tables()
            .iter()
            .map(|t| Stmt::new(t.create_table(generation), Vec::new())),
    );
    stmts.push(Stmt::new(
        "INSERT INTO projection_checkpoints (name, generation, position, state, fingerprint) \
         VALUES ($1, $2, 0, 'rebuilding', $3)",
        vec![
            Val::text(name),
            Val::Int(generation),
            Val::text(fingerprint(projection)),
        ],
    ));
    db.transaction(stmts).await?;
    Ok(Slot {
        projection: projection.clone(),
        generation,
        position: 0,
        state: State::Rebuilding,
        live: false,
        current: true,
    })
}

/// Creates the secondary indexes of a filled shadow generation.
pub async fn index_shadow(db: &Db, shadow: &Slot) -> Result<(), ProjectionError> {
    let stmts = shadow
        .projection
        .tables()
        .iter()
        .flat_map(|t| t.create_indexes(shadow.generation))
        .map(|sql| Stmt::new(sql, Vec::new()))
        .collect();
    Ok(db.transaction(stmts).await?)
}

/// Makes the shadow generations live, atomically for all of them: the views now show the
/// new tables and the live checkpoint is the shadow's. Returns the retired generations.
pub async fn swap(db: &Db, shadows: &[Slot]) -> Result<Vec<i64>, ProjectionError> {
    let mut stmts = Vec::new();
    let mut retired = Vec::new();
    for shadow in shadows {
        let name = Val::text(shadow.name());
        let live = db
            .query(
                "SELECT generation FROM projection_live WHERE name = $1",
                vec![name.clone()],
            )
            .await?;
        let old = live.first().map(|r| int(r, 0)).transpose()?.unwrap_or(0);
        retired.push(old);
        stmts.push(
            Stmt::new(
                "UPDATE projection_checkpoints SET state = 'running' \
                 WHERE name = $1 AND generation = $2 AND position = $3",
                vec![
                    name.clone(),
                    Val::Int(shadow.generation),
                    Val::int(shadow.position),
                ],
            )
            .expect(1),
        );
        // Deleting the old checkpoint makes a live runner's next compare-and-set fail, so it
        // reloads and carries on from the new generation's checkpoint.
        stmts.push(Stmt::new(
            "DELETE FROM projection_checkpoints WHERE name = $1 AND generation = $2",
            vec![name.clone(), Val::Int(old)],
        ));
        stmts.push(
            Stmt::new(
                "UPDATE projection_live SET generation = $1 WHERE name = $2 AND generation = $3",
                vec![Val::Int(shadow.generation), name, Val::Int(old)],
            )
            .expect(1),
        );
        stmts.extend(point_views(shadow.projection.tables(), shadow.generation));
    }
    db.transaction(stmts).await?;
    Ok(retired)
}

/// Drops the tables of a retired or abandoned generation.
pub async fn drop_generation(
    db: &Db,
    projection: &DynProjection,
    generation: i64,
) -> Result<(), ProjectionError> {
    Ok(db
        .transaction(drop_tables(projection.tables(), generation))
        .await?)
}

fn create_tables(tables: &[TableDef], generation: i64, if_missing: bool) -> Vec<Stmt> {
    tables
        .iter()
        .flat_map(|t| t.ddl(generation))
        .map(|sql| {
            let sql = if if_missing {
                sql.replacen("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1)
                    .replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
            } else {
                sql
            };
            Stmt::new(sql, Vec::new())
        })
        .collect()
}

fn drop_tables(tables: &[TableDef], generation: i64) -> Vec<Stmt> {
    tables
        .iter()
        .map(|t| {
            Stmt::new(
                format!("DROP TABLE IF EXISTS {}", t.physical(generation)),
                Vec::new(),
            )
        })
        .collect()
}

fn point_views(tables: &[TableDef], generation: i64) -> Vec<Stmt> {
    tables
        .iter()
        .flat_map(|t| {
            [
                Stmt::new(format!("DROP VIEW IF EXISTS {}", t.name), Vec::new()),
                Stmt::new(
                    format!(
                        "CREATE VIEW {} AS SELECT * FROM {}",
                        t.name,
                        physical(t.name, generation)
                    ),
                    Vec::new(),
                ),
            ]
        })
        .collect()
}

pub fn int(row: &[Val], i: usize) -> Result<i64, ProjectionError> {
    row.get(i)
        .and_then(Val::as_int)
        .ok_or_else(|| ProjectionError::Corrupt(format!("column {i} is not a number")))
}

/// The compare-and-set of a slot's checkpoint, first statement of every batch it is in.
pub fn checkpoint(slot: &Slot, position: u64, state: State, error: Option<String>) -> Stmt {
    let mut sql = String::from(
        "UPDATE projection_checkpoints SET position = $1, state = $2, error = $3 \
         WHERE name = $4 AND generation = $5 AND position = $6 AND state = $7",
    );
    if slot.live {
        sql.push_str(" AND generation = (SELECT generation FROM projection_live WHERE name = $4)");
    }
    Stmt::new(
        sql,
        vec![
            Val::int(position),
            Val::text(state.as_str()),
            Val::opt_text(error),
            Val::text(slot.name()),
            Val::Int(slot.generation),
            Val::int(slot.position),
            Val::text(slot.state.as_str()),
        ],
    )
    .typed(vec![
        Col::Int,
        Col::Text,
        Col::Text,
        Col::Text,
        Col::Int,
        Col::Int,
        Col::Text,
    ])
    .expect(1)
}
