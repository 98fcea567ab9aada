//! The deterministic demo and benchmark data generator: one street office, its
//! communities laid out as city blocks of buildings, households floor by floor,
//! residents, users and 90 days of visits.

mod people;
mod rng;

use app::domain::{CivilDate, KeyGroup, Outcome, VisitType};
use app::state::DAY_MS;
use sqlx::{Sqlite, SqlitePool, Transaction};

use rng::Rng;

/// The password of every demo account, printed at start-up.
pub const DEMO_PASSWORD: &str = "gridwalk2026";

#[derive(Debug, Clone)]
pub struct DemoSpec {
    pub seed: u64,
    pub communities: usize,
    pub grids_per_community: usize,
    pub buildings_per_grid: usize,
    /// Visits are spread over this many days before `now_ms`.
    pub visit_days: i64,
    /// Each household's visits, times this (a busier or longer record).
    pub visit_multiplier: u64,
    pub now_ms: i64,
}

impl DemoSpec {
    /// The demo: 2 communities, 8 grids, 64 buildings, ~3,600 households.
    pub fn standard(now_ms: i64) -> Self {
        DemoSpec {
            seed: 2026,
            communities: 2,
            grids_per_community: 4,
            buildings_per_grid: 8,
            visit_days: 90,
            visit_multiplier: 1,
            now_ms,
        }
    }

    /// One community of about `households` households with a year of visits,
    /// `multiplier` times the usual number: the coverage benchmarks' data.
    pub fn one_community(households: usize, multiplier: u64, now_ms: i64) -> Self {
        let buildings = households.div_ceil(56).max(1);
        DemoSpec {
            seed: 2026,
            communities: 1,
            grids_per_community: buildings.div_ceil(8),
            buildings_per_grid: 8,
            visit_days: 365,
            visit_multiplier: multiplier.max(1),
            now_ms,
        }
    }

    /// About `households` households (56 per building on average), for benchmarks.
    pub fn with_households(households: usize, now_ms: i64) -> Self {
        let buildings = households.div_ceil(56).max(1);
        let grids = buildings.div_ceil(8).max(1);
        let communities = grids.div_ceil(10).max(1);
        DemoSpec {
            seed: 2026,
            communities,
            grids_per_community: grids.div_ceil(communities),
            buildings_per_grid: 8,
            visit_days: 90,
            visit_multiplier: 1,
            now_ms,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoCounts {
    pub buildings: usize,
    pub households: usize,
    pub residents: usize,
    pub visits: usize,
}

/// A demo account for the start-up banner.
#[derive(sqlx::FromRow)]
pub struct DemoAccount {
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// The lead's community, the worker's grid, or none for the admin.
    pub scope: Option<String>,
}

/// Building shapes of an ordinary compound: six-storey walk-ups, mid-rises,
/// high-rises. (floors, units, doors per floor).
const SHAPES: [(i64, i64, i64); 3] = [(6, 3, 2), (11, 2, 2), (18, 2, 3)];
/// Per grid of 8: four walk-ups, two mid-rises, two high-rises.
const SHAPE_CYCLE: [usize; 8] = [0, 1, 0, 2, 0, 1, 0, 2];

const COMMUNITY_NAMES: &[&str] = &[
    "春华", "秋实", "明德", "和畅", "安居", "新桥", "兴隆", "长庆", "映月", "滨河",
];
const WORKER_NAMES: &[&str] = &[
    "王芳", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周婷", "吴刚",
];
const LEAD_NAMES: &[&str] = &["孙书记", "钱书记", "郑书记", "冯书记", "韩书记"];
const NOTES: &[&str] = &[
    "身体状况良好，生活能自理",
    "反映楼道灯不亮，已报物业",
    "提醒注意用电和燃气安全",
    "询问医保报销流程，已解答",
    "子女每周回来探望",
    "门口堆放杂物，已劝导清理",
];

/// Writes the whole data set in one transaction; returns what it wrote.
pub async fn generate(pool: &SqlitePool, spec: &DemoSpec) -> Result<DemoCounts, sqlx::Error> {
    let mut rng = Rng::new(spec.seed);
    let mut tx = pool.begin().await?;
    let mut counts = DemoCounts::default();
    let today = CivilDate::from_epoch_ms(spec.now_ms);
    let created = spec.now_ms - 400 * DAY_MS;
    // One hash for every demo account: argon2 is slow on purpose.
    let password_hash = password_auth::generate_hash(DEMO_PASSWORD);

    let street_id = rng.uuid_v7(created);
    sqlx::query("INSERT INTO streets (id, name) VALUES ($1, $2)")
        .bind(&street_id)
        .bind("和平街道")
        .execute(&mut *tx)
        .await?;
    insert_user(
        &mut tx,
        &rng.uuid_v7(created),
        "admin",
        "街道管理员",
        "admin",
        None,
        &password_hash,
        created,
    )
    .await?;

    let mut worker_no = 0;
    for c in 0..spec.communities {
        let community_id = rng.uuid_v7(created);
        let community_name = format!("{}社区", COMMUNITY_NAMES[c % COMMUNITY_NAMES.len()]);
        let community_road = format!("{}路", COMMUNITY_NAMES[c % COMMUNITY_NAMES.len()]);
        sqlx::query("INSERT INTO communities (id, street_id, name) VALUES ($1, $2, $3)")
            .bind(&community_id)
            .bind(&street_id)
            .bind(&community_name)
            .execute(&mut *tx)
            .await?;
        let lead_name = LEAD_NAMES[c % LEAD_NAMES.len()].to_string();
        insert_user(
            &mut tx,
            &rng.uuid_v7(created),
            &format!("lead{}", c + 1),
            &lead_name,
            "lead",
            Some(&community_id),
            &password_hash,
            created,
        )
        .await?;

        let mut building_no = 0;
        for g in 0..spec.grids_per_community {
            let grid_id = rng.uuid_v7(created);
            worker_no += 1;
            // Grids are numbered across the street, one worker each.
            sqlx::query("INSERT INTO grids (id, community_id, name) VALUES ($1, $2, $3)")
                .bind(&grid_id)
                .bind(&community_id)
                .bind(format!("第{worker_no}网格"))
                .execute(&mut *tx)
                .await?;
            let worker_id = rng.uuid_v7(created);
            let worker_name = WORKER_NAMES[(worker_no - 1) % WORKER_NAMES.len()];
            insert_user(
                &mut tx,
                &worker_id,
                &format!("worker{worker_no}"),
                worker_name,
                "worker",
                None,
                &password_hash,
                created,
            )
            .await?;
            sqlx::query("INSERT INTO user_grids (user_id, grid_id) VALUES ($1, $2)")
                .bind(&worker_id)
                .bind(&grid_id)
                .execute(&mut *tx)
                .await?;

            for b in 0..spec.buildings_per_grid {
                building_no += 1;
                let (floors, units, doors) = SHAPES[SHAPE_CYCLE[b % SHAPE_CYCLE.len()]];
                let building_id = rng.uuid_v7(created);
                let footprint = footprint(&mut rng, c, g, b, units);
                sqlx::query(
                    "INSERT INTO buildings (id, grid_id, number, name, address, units, floors, doors_per_floor, footprint)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&building_id)
                .bind(&grid_id)
                .bind(building_no as i64)
                .bind(format!("{building_no}号楼"))
                .bind(format!("{community_road}{building_no}号"))
                .bind(units)
                .bind(floors)
                .bind(doors)
                .bind(footprint)
                .execute(&mut *tx)
                .await?;
                counts.buildings += 1;

                for unit in 1..=units {
                    for floor in 1..=floors {
                        for door in 1..=doors {
                            let household = Household {
                                id: rng.uuid_v7(created),
                                building_id: &building_id,
                                unit,
                                floor,
                                door_number: format!("{floor}{door:02}"),
                            };
                            let members = people::household(&mut rng, today);
                            insert_household(&mut tx, &mut rng, &household, &members, created).await?;
                            counts.households += 1;
                            counts.residents += members.len();
                            counts.visits +=
                                insert_visits(&mut tx, &mut rng, spec, &household.id, &worker_id, &members).await?;
                        }
                    }
                }
            }
        }
    }
    record_changes(&mut tx, spec.now_ms).await?;
    tx.commit().await?;
    Ok(counts)
}

/// Puts everything just written into the sync change sequence, so a device's
/// first pull from cursor 0 gets its whole grid: buildings before the households
/// in them, households before their residents and visits. One bulk statement per
/// entity (the tables were empty before `generate`), not one insert per row.
async fn record_changes(tx: &mut Transaction<'_, Sqlite>, at: i64) -> Result<(), sqlx::Error> {
    const BULK: [&str; 4] = [
        "INSERT INTO changes (entity, entity_id, grid_id, at)
         SELECT 'building', b.id, b.grid_id, $1 FROM buildings b ORDER BY b.grid_id, b.number",
        "INSERT INTO changes (entity, entity_id, grid_id, at)
         SELECT 'household', h.id, b.grid_id, $1 FROM households h JOIN buildings b ON b.id = h.building_id
         ORDER BY b.grid_id, b.number, h.unit, h.floor, h.door_number",
        "INSERT INTO changes (entity, entity_id, grid_id, at)
         SELECT 'resident', r.id, b.grid_id, $1 FROM residents r
         JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id
         ORDER BY b.grid_id, r.household_id, r.id",
        "INSERT INTO changes (entity, entity_id, grid_id, at)
         SELECT 'visit', v.id, b.grid_id, $1 FROM visits v
         JOIN households h ON h.id = v.household_id JOIN buildings b ON b.id = h.building_id
         ORDER BY b.grid_id, v.visited_at, v.id",
    ];
    for sql in BULK {
        sqlx::query(sql).bind(at).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The demo accounts as stored, for the start-up banner.
pub async fn accounts(pool: &SqlitePool) -> Result<Vec<DemoAccount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.username, u.display_name, u.role,
                COALESCE(c.name, (SELECT MIN(g.name) FROM user_grids ug JOIN grids g ON g.id = ug.grid_id
                                  WHERE ug.user_id = u.id)) AS scope
         FROM users u LEFT JOIN communities c ON c.id = u.community_id
         ORDER BY CASE u.role WHEN 'admin' THEN 0 WHEN 'lead' THEN 1 ELSE 2 END, length(u.username), u.username
         LIMIT 12",
    )
    .fetch_all(pool)
    .await
}

struct Household<'a> {
    id: String,
    building_id: &'a str,
    unit: i64,
    floor: i64,
    door_number: String,
}

#[allow(clippy::too_many_arguments)]
async fn insert_user(
    tx: &mut Transaction<'_, Sqlite>,
    id: &str,
    username: &str,
    display_name: &str,
    role: &str,
    community_id: Option<&str>,
    password_hash: &str,
    created: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, username, display_name, role, community_id, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(username)
    .bind(display_name)
    .bind(role)
    .bind(community_id)
    .bind(password_hash)
    .bind(created)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_household(
    tx: &mut Transaction<'_, Sqlite>,
    rng: &mut Rng,
    household: &Household<'_>,
    members: &[people::Person],
    created: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO households (id, building_id, unit, floor, door_number, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&household.id)
    .bind(household.building_id)
    .bind(household.unit)
    .bind(household.floor)
    .bind(&household.door_number)
    .bind(created)
    .execute(&mut **tx)
    .await?;
    for person in members {
        let resident_id = rng.uuid_v7(created);
        sqlx::query(
            "INSERT INTO residents (id, household_id, name, gender, birth_date, id_number, phone,
                                    registration_type, moved_out, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9)",
        )
        .bind(&resident_id)
        .bind(&household.id)
        .bind(&person.name)
        .bind(person.gender.as_str())
        .bind(person.birth_date.to_string())
        .bind(&person.id_number)
        .bind(&person.phone)
        .bind(person.registration_type.as_str())
        .bind(created)
        .execute(&mut **tx)
        .await?;
        for tag in &person.tags {
            sqlx::query("INSERT INTO resident_tags (resident_id, tag) VALUES ($1, $2)")
                .bind(&resident_id)
                .bind(tag.as_str())
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// Key-group households are visited every week or two, the rest once a quarter
/// or so; visits fall in working hours (Beijing time).
async fn insert_visits(
    tx: &mut Transaction<'_, Sqlite>,
    rng: &mut Rng,
    spec: &DemoSpec,
    household_id: &str,
    worker_id: &str,
    members: &[people::Person],
) -> Result<usize, sqlx::Error> {
    if members.is_empty() && rng.chance(0.7) {
        return Ok(0);
    }
    let elderly_alone = members.iter().any(|p| p.tags.contains(&KeyGroup::ElderlyAlone));
    let key = members.iter().any(|p| !p.tags.is_empty());
    let count = if elderly_alone {
        rng.range(7, 13)
    } else if key {
        rng.range(3, 7)
    } else {
        rng.weighted(&[30, 55, 15]) as u64
    } * spec.visit_multiplier;
    const BEIJING_OFFSET_MS: i64 = 8 * 3_600_000;
    let today_start = (spec.now_ms + BEIJING_OFFSET_MS).div_euclid(DAY_MS) * DAY_MS - BEIJING_OFFSET_MS;
    for _ in 0..count {
        let day = rng.range(1, spec.visit_days as u64 + 1) as i64;
        let minute = rng.range(9 * 60, 18 * 60) as i64;
        let at = today_start - day * DAY_MS + minute * 60_000;
        let visit_type = if key {
            [VisitType::KeyCare, VisitType::FourDoors, VisitType::Routine][rng.weighted(&[60, 20, 20])]
        } else {
            [VisitType::Routine, VisitType::FourDoors, VisitType::FollowUp][rng.weighted(&[70, 25, 5])]
        };
        let outcome = if members.is_empty() {
            Outcome::NobodyHome
        } else {
            [Outcome::Met, Outcome::NobodyHome, Outcome::Refused][rng.weighted(&[80, 18, 2])]
        };
        let notes = if outcome == Outcome::Met && rng.chance(0.3) {
            *rng.pick(NOTES)
        } else {
            ""
        };
        sqlx::query(
            "INSERT INTO visits (id, household_id, worker_id, visited_at, visit_type, outcome, notes, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $4)",
        )
        .bind(rng.uuid_v7(at))
        .bind(household_id)
        .bind(worker_id)
        .bind(at)
        .bind(visit_type.as_str())
        .bind(outcome.as_str())
        .bind(notes)
        .execute(&mut **tx)
        .await?;
    }
    Ok(count as usize)
}

/// A building's outline as a GeoJSON Polygon. Communities sit side by side
/// along a road; each grid is a city block (2 x 2 blocks per row of a
/// community); buildings stand in two rows of four per block, long side
/// east-west as Chinese slabs do, for the southern sun.
fn footprint(rng: &mut Rng, community: usize, grid: usize, building: usize, units: i64) -> String {
    const ORIGIN: (f64, f64) = (120.1500, 30.2800); // lon, lat: an ordinary Hangzhou district
    const M_PER_DEG_LAT: f64 = 111_320.0;
    let m_per_deg_lon = M_PER_DEG_LAT * ORIGIN.1.to_radians().cos();
    let (block_w, block_h, road) = (270.0, 120.0, 30.0);
    let community_x = community as f64 * (2.0 * (block_w + road) + 60.0);
    let block_x = community_x + (grid % 2) as f64 * (block_w + road);
    let block_y = (grid / 2) as f64 * (block_h + road);
    let col = (building % 4) as f64;
    let row = (building / 4 % 2) as f64 + (building / 8) as f64 * 2.0;
    let width = 16.0 * units as f64;
    let depth = 12.0;
    let x0 = block_x + 10.0 + col * 65.0 + rng.unit() * 4.0;
    let y0 = block_y + 15.0 + row * 55.0 + rng.unit() * 4.0;
    let corners = [
        (x0, y0),
        (x0 + width, y0),
        (x0 + width, y0 + depth),
        (x0, y0 + depth),
        (x0, y0),
    ];
    let ring: Vec<String> = corners
        .iter()
        .map(|(x, y)| {
            format!(
                "[{:.6},{:.6}]",
                ORIGIN.0 + x / m_per_deg_lon,
                ORIGIN.1 + y / M_PER_DEG_LAT
            )
        })
        .collect();
    format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, ring.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_spec_scales() {
        let spec = DemoSpec::with_households(100_000, 0);
        let buildings = spec.communities * spec.grids_per_community * spec.buildings_per_grid;
        // 56 households per building on average (4 x 36, 2 x 44, 2 x 108 per 8).
        assert!(buildings * 56 >= 100_000, "{buildings}");
    }

    #[test]
    fn footprints_are_closed_polygons() {
        let fp = footprint(&mut Rng::new(1), 1, 3, 7, 3);
        assert!(fp.starts_with(r#"{"type":"Polygon","coordinates":[[["#));
        let first = &fp[fp.find("[[[").unwrap() + 2..fp.find(']').unwrap() + 1];
        assert!(fp.ends_with(&format!("{first}]]}}")));
    }
}
