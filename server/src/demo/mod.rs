//! The deterministic demo and benchmark data generator: one street office, its
//! communities laid out as city blocks of buildings, households floor by floor,
//! residents, users, 90 days of visits, a year of requests and the last
//! months' public notices.

mod notices;
mod party;
mod people;
mod requests;
pub mod rng;
mod service;

use app::domain::{CivilDate, KeyGroup, Outcome, VisitType};
use app::state::DAY_MS;
use store::bulk::{
    BuildingRow, CommunityRow, GridRow, HouseholdRow, NoticeAttachmentRow, ResidentRow, ResidentTagRow, StreetRow,
    UserGridRow, UserRow, VisitRow,
};
use store::{Store, Tx};

use crate::notices::attachments;
use crate::photos::PhotoStore;

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
    /// Requests (诉求) are spread over this many days before `now_ms`,
    pub request_days: i64,
    /// this many per household on average.
    pub requests_per_household: f64,
    /// Each community's lead has published notices of every category.
    pub notices: bool,
    /// Each grid has two party members linked to households (the demo only).
    pub party_members: bool,
    /// This many party members in each community at work: links, a year of
    /// visits and weekly activities (the party benchmarks; 0 for none).
    pub party_service_members: usize,
    pub now_ms: i64,
}

/// Why the demo could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Store(#[from] store::Error),
    /// A notice's file could not be checked or stored.
    #[error("demo notice file: {0}")]
    File(String),
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
            request_days: 365,
            requests_per_household: 0.25,
            notices: true,
            party_members: true,
            party_service_members: 0,
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
            request_days: 0,
            requests_per_household: 0.0,
            notices: false,
            party_members: false,
            party_service_members: 0,
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
            request_days: 0,
            requests_per_household: 0.0,
            notices: false,
            party_members: false,
            party_service_members: 0,
            now_ms,
        }
    }

    /// This many party members at work in each community on top (the party
    /// benchmarks: 2,000 members, 8,000 links, a year of visits and activities).
    pub fn with_party_service(mut self, members: usize) -> Self {
        self.party_service_members = members;
        self
    }

    /// These requests over these days on top (the requests benchmarks: two
    /// years, two per household).
    pub fn with_requests(mut self, days: i64, per_household: f64) -> Self {
        self.request_days = days;
        self.requests_per_household = per_household;
        self
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoCounts {
    pub buildings: usize,
    pub households: usize,
    pub residents: usize,
    pub visits: usize,
    pub requests: usize,
    pub notices: usize,
    pub party_members: usize,
    pub member_visits: usize,
    pub check_ins: usize,
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

/// Seeds the demo street into an empty database, logging what it wrote; a
/// database that holds data is left alone. Safe to run from several
/// instances at once (see `generate`). The notices' files go into `photos`.
pub async fn seed(store: &Store, photos: &PhotoStore) -> Result<Option<DemoCounts>, SeedError> {
    let started = std::time::Instant::now();
    let counts = write(store, Some(photos), &DemoSpec::standard(app::state::now_ms())).await?;
    match &counts {
        Some(counts) => tracing::info!(
            ?counts,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "demo data seeded"
        ),
        None => tracing::info!("the database already holds data; no demo data seeded"),
    }
    Ok(counts)
}

/// Writes the whole data set in one transaction into an empty database;
/// returns what it wrote, or `None` when the database already held a street
/// (another instance may have seeded it a moment before). Without a photo
/// store at hand the notices carry no files (`seed` attaches them).
pub async fn generate(store: &Store, spec: &DemoSpec) -> Result<Option<DemoCounts>, SeedError> {
    write(store, None, spec).await
}

async fn write(store: &Store, photos: Option<&PhotoStore>, spec: &DemoSpec) -> Result<Option<DemoCounts>, SeedError> {
    let mut generator = Generator::new(spec);
    // Streams of their own: requests and notices came later, and drawing them
    // from the main stream would have changed every record after the first.
    let mut request_rng = Rng::new(spec.seed ^ 0x5EED_2EC0_E575);
    let mut notice_rng = Rng::new(spec.seed ^ 0x0071_CE5E_ED00);
    let mut party_rng = Rng::new(spec.seed ^ 0x0000_9A27_7E55);
    let mut tx = store.begin().await?;
    if !tx.claim_empty().await? {
        return Ok(None);
    }
    let mut counts = DemoCounts::default();

    let street_id = generator.id();
    tx.insert_bulk(&[StreetRow {
        id: street_id.clone(),
        name: "和平街道".into(),
    }])
    .await?;
    tx.insert_bulk(&[generator.user("admin".into(), "街道管理员", "admin", None)])
        .await?;

    let mut worker_no = 0;
    for c in 0..spec.communities {
        let place = COMMUNITY_NAMES[c % COMMUNITY_NAMES.len()];
        let community_id = generator.id();
        tx.insert_bulk(&[CommunityRow {
            id: community_id.clone(),
            street_id: street_id.clone(),
            name: format!("{place}社区"),
        }])
        .await?;
        let lead_name = LEAD_NAMES[c % LEAD_NAMES.len()];
        let lead = generator.user(format!("lead{}", c + 1), lead_name, "lead", Some(community_id.clone()));
        tx.insert_bulk(std::slice::from_ref(&lead)).await?;
        // Work phones for the buildings' public pages: numbered, not drawn,
        // so the random stream (and every record after) stays as it was.
        tx.set_work_phone(&lead.id, Some(&format!("0571-8800{:04}", c + 1)))
            .await?;
        if spec.notices {
            let community = notices::Community {
                id: &community_id,
                place,
                lead_id: &lead.id,
            };
            counts.notices += write_notices(&mut tx, photos, &mut notice_rng, &community, spec.now_ms).await?;
        }

        let mut building_no = 0;
        let mut service_members = Vec::new();
        for g in 0..spec.grids_per_community {
            let grid_id = generator.id();
            worker_no += 1;
            // Grids are numbered across the street, one worker each.
            tx.insert_bulk(&[GridRow {
                id: grid_id.clone(),
                community_id: community_id.clone(),
                name: format!("第{worker_no}网格"),
            }])
            .await?;
            let worker_name = WORKER_NAMES[(worker_no - 1) % WORKER_NAMES.len()];
            let worker = generator.user(format!("worker{worker_no}"), worker_name, "worker", None);
            tx.insert_bulk(std::slice::from_ref(&worker)).await?;
            tx.set_work_phone(&worker.id, Some(&format!("1380571{worker_no:04}")))
                .await?;
            tx.insert_bulk(&[UserGridRow {
                user_id: worker.id.clone(),
                grid_id: grid_id.clone(),
            }])
            .await?;

            let mut rows = GridRows::default();
            for b in 0..spec.buildings_per_grid {
                building_no += 1;
                let site = Site {
                    community: c,
                    grid: g,
                    building: b,
                    number: building_no,
                    place,
                    grid_id: &grid_id,
                    worker_id: &worker.id,
                };
                generator.building(&site, &mut rows);
            }
            counts.add(&rows);
            let households: Vec<String> = rows.households.iter().map(|h| h.id.clone()).collect();
            rows.write(&mut tx, &grid_id, spec.now_ms).await?;
            if spec.party_members {
                let grid = party::GridParty {
                    community_id: &community_id,
                    grid_id: &grid_id,
                    grid_name: &format!("第{worker_no}网格"),
                    grid_no: worker_no,
                    today: CivilDate::from_epoch_ms(spec.now_ms + app::policy::BEIJING_OFFSET_MS),
                    at: spec.now_ms,
                };
                counts.party_members += party::write(&mut tx, &mut party_rng, &grid, &rows).await?;
            }
            if spec.party_service_members > 0 {
                // Spread evenly; the first grids take the remainder.
                let per_grid = spec.party_service_members / spec.grids_per_community;
                let extra = usize::from(g < spec.party_service_members % spec.grids_per_community);
                let grid = service::GridService {
                    community_id: &community_id,
                    grid_id: &grid_id,
                    lead_id: &lead.id,
                    members: per_grid + extra,
                    first_member: service_members.len(),
                    now_ms: spec.now_ms,
                };
                let (ids, visits) = service::write_members(&mut tx, &mut party_rng, &grid, &rows).await?;
                service_members.extend(ids);
                counts.party_members += service_members.len() - grid.first_member;
                counts.member_visits += visits;
            }
            let grid = requests::GridPeople {
                community_id: &community_id,
                grid_id: &grid_id,
                worker_id: &worker.id,
                lead_id: &lead.id,
                households: &households,
            };
            let count = (households.len() as f64 * spec.requests_per_household).round() as usize;
            let (requests, events) = requests::generate(&mut request_rng, &grid, count, spec.request_days, spec.now_ms);
            tx.insert_bulk(&requests).await?;
            tx.insert_bulk(&events).await?;
            for request in &requests {
                tx.record_change("request", &request.id, &grid_id, spec.now_ms);
            }
            counts.requests += requests.len();
        }
        if !service_members.is_empty() {
            counts.check_ins += service::write_activities(
                &mut tx,
                &mut party_rng,
                &community_id,
                &lead.id,
                &service_members,
                spec.now_ms,
            )
            .await?;
        }
    }
    // The banner may print the demo's published password on this install.
    tx.set_install_fact("demo_seeded", "1").await?;
    tx.commit().await?;
    store.analyze().await?;
    Ok(Some(counts))
}

/// A community's notices with their histories; with a photo store, their
/// files too, checked and stored as a lead's upload is. Returns how many.
async fn write_notices(
    tx: &mut Tx,
    photos: Option<&PhotoStore>,
    rng: &mut Rng,
    community: &notices::Community<'_>,
    now: i64,
) -> Result<usize, SeedError> {
    let notices = notices::generate(rng, community, now);
    tx.insert_bulk(&notices.notices).await?;
    tx.insert_bulk(&notices.revisions).await?;
    let Some(photos) = photos else {
        return Ok(notices.notices.len());
    };
    let mut files = Vec::new();
    for file in notices.files {
        let (kind, stored) = attachments::accept(&file.png, photos.rules())
            .map_err(|refusal| SeedError::File(refusal.into_parts().2))?;
        let bytes = stored.len() as i64;
        // Stored before the rows that name it are committed: a listed file
        // is always there (objects are named by content, so a second
        // instance storing it too changes nothing).
        let hash = attachments::store(photos, kind, &stored)
            .await
            .map_err(|e| SeedError::File(e.to_string()))?;
        files.push(NoticeAttachmentRow {
            notice_id: file.notice_id,
            hash,
            kind: kind.into(),
            name: file.name,
            bytes,
            added_by: file.added_by,
            added_at: file.added_at,
        });
    }
    tx.insert_bulk(&files).await?;
    Ok(notices.notices.len())
}

impl DemoCounts {
    fn add(&mut self, rows: &GridRows) {
        self.buildings += rows.buildings.len();
        self.households += rows.households.len();
        self.residents += rows.residents.len();
        self.visits += rows.visits.len();
    }
}

/// One grid's buildings and everything in them, written together once the
/// grid is generated: a few large statements per grid, and only one grid's
/// rows held at a time however large the data set.
#[derive(Default)]
struct GridRows {
    buildings: Vec<BuildingRow>,
    households: Vec<HouseholdRow>,
    residents: Vec<ResidentRow>,
    tags: Vec<ResidentTagRow>,
    visits: Vec<VisitRow>,
}

impl GridRows {
    /// Inserts the rows and puts them into the sync change sequence, so a
    /// device's first pull from cursor 0 gets its whole grid: buildings before
    /// the households in them, households before their residents and visits,
    /// visits in the order they happened.
    async fn write(&mut self, tx: &mut Tx, grid_id: &str, at: i64) -> Result<(), store::Error> {
        self.visits
            .sort_by(|a, b| (a.visited_at, &a.id).cmp(&(b.visited_at, &b.id)));
        tx.insert_bulk(&self.buildings).await?;
        tx.insert_bulk(&self.households).await?;
        tx.insert_bulk(&self.residents).await?;
        tx.insert_bulk(&self.tags).await?;
        tx.insert_bulk(&self.visits).await?;
        let changes = (self.buildings.iter().map(|r| ("building", &r.id)))
            .chain(self.households.iter().map(|r| ("household", &r.id)))
            .chain(self.residents.iter().map(|r| ("resident", &r.id)))
            .chain(self.visits.iter().map(|r| ("visit", &r.id)));
        for (entity, id) in changes {
            tx.record_change(entity, id, grid_id, at);
        }
        Ok(())
    }
}

/// Where a building stands, and whose grid it is in.
struct Site<'a> {
    community: usize,
    grid: usize,
    /// Its place in the grid.
    building: usize,
    /// Its number in the community (楼号).
    number: i64,
    /// The community's name, which its road shares.
    place: &'a str,
    grid_id: &'a str,
    worker_id: &'a str,
}

/// The random stream and what stays fixed while it runs. The order of its
/// draws is the data set: changing it changes every id after it.
struct Generator<'a> {
    rng: Rng,
    spec: &'a DemoSpec,
    today: CivilDate,
    /// When the records were made: before any visit.
    created: i64,
    /// One hash for every demo account: argon2 is slow on purpose.
    password_hash: String,
}

impl<'a> Generator<'a> {
    fn new(spec: &'a DemoSpec) -> Self {
        Generator {
            rng: Rng::new(spec.seed),
            spec,
            today: CivilDate::from_epoch_ms(spec.now_ms),
            created: spec.now_ms - 400 * DAY_MS,
            password_hash: password_auth::generate_hash(DEMO_PASSWORD),
        }
    }

    fn id(&mut self) -> String {
        self.rng.uuid_v7(self.created)
    }

    fn user(&mut self, username: String, display_name: &str, role: &str, community_id: Option<String>) -> UserRow {
        UserRow {
            id: self.id(),
            username,
            display_name: display_name.into(),
            role: role.into(),
            community_id,
            password_hash: self.password_hash.clone(),
            created_at: self.created,
        }
    }

    /// A building of the grid's shape cycle, its households floor by floor.
    fn building(&mut self, site: &Site<'_>, rows: &mut GridRows) {
        let (floors, units, doors) = SHAPES[SHAPE_CYCLE[site.building % SHAPE_CYCLE.len()]];
        let id = self.id();
        let footprint = footprint(&mut self.rng, site.community, site.grid, site.building, units);
        for unit in 1..=units {
            for floor in 1..=floors {
                for door in 1..=doors {
                    self.household(&id, unit, floor, format!("{floor}{door:02}"), site.worker_id, rows);
                }
            }
        }
        rows.buildings.push(BuildingRow {
            id,
            grid_id: site.grid_id.into(),
            number: site.number,
            name: format!("{}号楼", site.number),
            address: format!("{}路{}号", site.place, site.number),
            units,
            floors,
            doors_per_floor: doors,
            footprint,
        });
    }

    fn household(
        &mut self,
        building_id: &str,
        unit: i64,
        floor: i64,
        door_number: String,
        worker_id: &str,
        rows: &mut GridRows,
    ) {
        let id = self.id();
        let members = people::household(&mut self.rng, self.today);
        for person in &members {
            let resident_id = self.id();
            rows.tags.extend(person.tags.iter().map(|tag| ResidentTagRow {
                resident_id: resident_id.clone(),
                tag: tag.as_str().into(),
            }));
            rows.residents.push(ResidentRow {
                id: resident_id,
                household_id: id.clone(),
                name: person.name.clone(),
                gender: person.gender.as_str().into(),
                birth_date: person.birth_date.to_string(),
                id_number: person.id_number.clone(),
                phone: person.phone.clone(),
                registration_type: person.registration_type.as_str().into(),
                created_at: self.created,
                updated_at: self.created,
            });
        }
        self.visits(&id, worker_id, &members, &mut rows.visits);
        rows.households.push(HouseholdRow {
            id,
            building_id: building_id.into(),
            unit,
            floor,
            door_number,
            created_at: self.created,
            updated_at: self.created,
        });
    }

    /// Key-group households are visited every week or two, the rest once a
    /// quarter or so; visits fall in working hours (Beijing time).
    fn visits(&mut self, household_id: &str, worker_id: &str, members: &[people::Person], out: &mut Vec<VisitRow>) {
        let rng = &mut self.rng;
        if members.is_empty() && rng.chance(0.7) {
            return;
        }
        let elderly_alone = members.iter().any(|p| p.tags.contains(&KeyGroup::ElderlyAlone));
        let key = members.iter().any(|p| !p.tags.is_empty());
        let count = if elderly_alone {
            rng.range(7, 13)
        } else if key {
            rng.range(3, 7)
        } else {
            rng.weighted(&[30, 55, 15]) as u64
        } * self.spec.visit_multiplier;
        const BEIJING_OFFSET_MS: i64 = 8 * 3_600_000;
        let now = self.spec.now_ms;
        let today_start = (now + BEIJING_OFFSET_MS).div_euclid(DAY_MS) * DAY_MS - BEIJING_OFFSET_MS;
        for _ in 0..count {
            let day = rng.range(1, self.spec.visit_days as u64 + 1) as i64;
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
            out.push(VisitRow {
                id: rng.uuid_v7(at),
                household_id: household_id.into(),
                worker_id: worker_id.into(),
                visited_at: at,
                visit_type: visit_type.as_str().into(),
                outcome: outcome.as_str().into(),
                notes: notes.into(),
                created_at: at,
            });
        }
    }
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
