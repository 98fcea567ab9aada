//! The checking half of an import: a [`Table`] against what is already
//! there, row by row, into a [`Plan`] — what would be created, updated or
//! left alone, and every refused row with its column and reason. Nothing is
//! written here; a dry run is a plan shown, an import is a clean plan applied
//! in one transaction (`Tx::apply_import`). Re-importing the same file plans
//! nothing: records are found by their natural keys (a grid by name in its
//! community, a building by name in its grid, a household by unit and door
//! in its building, a resident by ID number).

use std::collections::HashMap;

use app::domain::{CivilDate, RegistrationType, Role};
use app::sync::{ResidentInput, describe};
use store::bulk::{BuildingRow, CommunityRow, GridRow, HouseholdRow, ResidentRow, ResidentTagRow, StreetRow};
use store::import::{BuildingUpdate, KnownBuilding, KnownResident, ResidentUpdate, Territory, Writes};

use super::layout::Layout;
use super::{Field, Kind, Row, Table, cells};

/// A refused row: where, and why, for the person and for the error report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: u32,
    /// The column's header as the file wrote it ("" for the row as a whole).
    pub column: String,
    pub reason: String,
}

/// What an import does, row by row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub refused: usize,
}

/// A staff account the import makes or changes (passwords are made when it is applied).
#[derive(Debug, Clone)]
pub struct StaffChange {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub community_id: Option<String>,
    /// The account to update, `None` for a new one.
    pub existing: Option<String>,
    pub grids: Vec<String>,
}

/// An in-service party member the import registers or updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyChange {
    pub community_id: String,
    pub name: String,
    pub unit: String,
    pub unit_party_org: String,
    pub rank: crate::party::Rank,
    pub work_phone: String,
    pub branch: String,
    pub group: String,
    pub registered_on: String,
    /// The member to update, `None` for a new registration.
    pub existing: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub summary: Summary,
    pub errors: Vec<RowError>,
    /// Moves and other things worth a second look ("张三 从 2号楼 101 迁入").
    pub notes: Vec<String>,
    pub writes: Writes,
    pub staff: Vec<StaffChange>,
    pub party: Vec<PartyChange>,
}

impl Plan {
    /// Something to write, and nothing refused.
    pub fn ready(&self) -> bool {
        self.errors.is_empty() && (self.summary.created + self.summary.updated) > 0
    }

    fn refuse(&mut self, table: &Table, row: &Row, field: Option<Field>, reason: impl Into<String>) {
        let column = field
            .and_then(|f| table.column(f))
            .map(|c| c.header.clone())
            .unwrap_or_default();
        self.errors.push(RowError {
            row: row.number,
            column,
            reason: reason.into(),
        });
    }

    /// The plan with its refused rows counted (a row refused twice once).
    fn finished(mut self) -> Self {
        self.summary.refused = self
            .errors
            .iter()
            .map(|e| e.row)
            .collect::<std::collections::HashSet<_>>()
            .len();
        self
    }

    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.summary.created += 1,
            Outcome::Updated => self.summary.updated += 1,
            Outcome::Unchanged => self.summary.unchanged += 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Unchanged,
    Updated,
    Created,
}

/// Reads one checked value of a row, or records why not and moves on.
macro_rules! take {
    ($plan:expr, $table:expr, $row:expr, $field:expr, $parse:expr) => {
        match $parse($table.cell($row, $field)) {
            Ok(value) => value,
            Err(reason) => {
                $plan.refuse($table, $row, Some($field), reason);
                continue;
            }
        }
    };
}

/// The whole territory in one place: what exists, and what this import adds.
struct Places {
    territory: Territory,
    /// Community names to ids (existing and new).
    communities: HashMap<String, String>,
    grids: HashMap<(String, String), String>,
    /// Grid id to its community id.
    grid_community: HashMap<String, String>,
    buildings: HashMap<(String, String), usize>,
    households: HashMap<(String, i64, String), usize>,
}

impl Places {
    fn new(territory: Territory) -> Self {
        let communities = territory
            .communities
            .iter()
            .map(|c| (c.name.clone(), c.id.clone()))
            .collect();
        let grids = territory
            .grids
            .iter()
            .map(|g| ((g.community_id.clone(), g.name.clone()), g.id.clone()))
            .collect();
        let grid_community = territory
            .grids
            .iter()
            .map(|g| (g.id.clone(), g.community_id.clone()))
            .collect();
        let buildings = territory
            .buildings
            .iter()
            .enumerate()
            .map(|(i, b)| ((b.grid_id.clone(), b.name.clone()), i))
            .collect();
        let households = territory
            .households
            .iter()
            .enumerate()
            .map(|(i, h)| ((h.building_id.clone(), h.unit, h.door_number.clone()), i))
            .collect();
        Places {
            territory,
            communities,
            grids,
            grid_community,
            buildings,
            households,
        }
    }

    /// The community a row names, among the importer's: a lead's own when the
    /// cell is blank (`None` for an admin's blank cell).
    fn row_community(&self, name: &str, own: Option<&str>) -> Result<Option<String>, String> {
        match name {
            "" => Ok(own.map(str::to_owned)),
            name => self
                .communities
                .get(name)
                .map(|id| Some(id.clone()))
                .ok_or_else(|| format!("没有找到您负责的社区「{name}」")),
        }
    }

    /// Buildings of this name in the scope, narrowed by grid and community names if given.
    fn buildings_named(&self, name: &str, grid: &str, community: &str) -> Vec<&KnownBuilding> {
        self.territory
            .buildings
            .iter()
            .filter(|b| b.name == name)
            .filter(|b| grid.is_empty() || self.territory.grids.iter().any(|g| g.id == b.grid_id && g.name == grid))
            .filter(|b| {
                community.is_empty()
                    || self
                        .grid_community
                        .get(&b.grid_id)
                        .is_some_and(|c| self.communities.get(community) == Some(c))
            })
            .collect()
    }
}

/// Checks a table against the database: `community` is a lead's (the only
/// one their rows may name), `None` for an admin.
pub async fn plan(
    store: &store::Store,
    table: &Table,
    community: Option<&str>,
    now: i64,
) -> Result<Plan, store::Error> {
    let territory = store.import_territory(community.unwrap_or("")).await?;
    let mut places = Places::new(territory);
    let today = CivilDate::from_epoch_ms(now + 8 * 3_600_000);
    Ok(match table.kind {
        Kind::Territory => territory_plan(table, &mut places, community, now),
        Kind::Residents => {
            let numbers: Vec<String> = table
                .rows
                .iter()
                .filter_map(|row| cells::id_number(table.cell(row, Field::IdNumber)).ok().flatten())
                .map(|id| id.as_str().to_owned())
                .collect();
            let known = store.import_residents(community.unwrap_or(""), &numbers).await?;
            residents_plan(table, &places, community, &known, now, today)
        }
        Kind::Staff => {
            let staff = store.staff(community).await?;
            let everyone = if community.is_some() {
                store.staff(None).await?
            } else {
                staff.clone()
            };
            staff_plan(table, &places, community, &staff, &everyone)
        }
        Kind::Party => {
            let roster = store::party::RosterQuery {
                community: community.unwrap_or(""),
                ..Default::default()
            };
            let members = store.party_roster(roster).await?;
            party_plan(table, &places, community, &members, today)
        }
    })
}

/// A building this import creates, laid out until the file has been read.
struct NewBuilding {
    row: BuildingRow,
    given: (Option<u32>, Option<u32>, Option<u32>),
    doors: HashMap<(i64, i64), usize>,
}

fn territory_plan(table: &Table, places: &mut Places, community: Option<&str>, now: i64) -> Plan {
    let mut plan = Plan::default();
    let mut new_buildings: Vec<NewBuilding> = Vec::new();
    let mut new_index: HashMap<(String, String), usize> = HashMap::new();
    let mut updated_buildings: HashMap<String, BuildingUpdate> = HashMap::new();
    let mut seen_doors: HashMap<(String, i64, String), u32> = HashMap::new();
    // New communities join the street office of the existing ones.
    let mut street_id = places.territory.communities.first().map(|c| c.street_id.clone());
    for row in &table.rows {
        let community_name = take!(plan, table, row, Field::Community, required_text("社区"));
        let grid_name = take!(plan, table, row, Field::Grid, required_text("网格"));
        let building_name = take!(plan, table, row, Field::Building, required_text("楼栋"));
        let address = take!(plan, table, row, Field::Address, cells::value);
        let units = take!(plan, table, row, Field::UnitCount, |c| cells::positive_integer(
            c,
            "单元数",
            1..=20
        ));
        let floors = take!(plan, table, row, Field::FloorCount, |c| cells::positive_integer(
            c,
            "层数",
            1..=120
        ));
        let doors = take!(plan, table, row, Field::DoorsPerFloor, |c| cells::positive_integer(
            c,
            "每层户数",
            1..=20
        ));
        let unit = take!(plan, table, row, Field::Unit, |c| cells::positive_integer(
            c,
            "单元",
            1..=20
        ));
        let floor = take!(plan, table, row, Field::Floor, |c| cells::positive_integer(
            c,
            "楼层",
            1..=120
        ));
        let door = take!(plan, table, row, Field::Door, cells::door_number);
        if [&community_name, &grid_name, &building_name]
            .iter()
            .any(|n| n.chars().count() > 30)
        {
            plan.refuse(table, row, None, "社区、网格和楼栋名称不能超过30个字");
            continue;
        }
        let mut outcome = Outcome::Unchanged;

        // The community: a lead's own, or (an admin's import) found or made.
        let community_id = match places.communities.get(&community_name) {
            Some(id) if community.is_none_or(|own| own == id) => id.clone(),
            _ if community.is_some() => {
                plan.refuse(
                    table,
                    row,
                    Some(Field::Community),
                    format!("「{community_name}」不是您负责的社区"),
                );
                continue;
            }
            _ => {
                let id = store::new_id();
                let street = match &street_id {
                    Some(s) => s.clone(),
                    None => {
                        // A new install's first community: its street office comes with it.
                        let s = store::new_id();
                        plan.writes.streets.push(StreetRow {
                            id: s.clone(),
                            name: "街道办事处".into(),
                        });
                        street_id = Some(s.clone());
                        s
                    }
                };
                plan.writes.communities.push(CommunityRow {
                    id: id.clone(),
                    street_id: street,
                    name: community_name.clone(),
                });
                places.communities.insert(community_name.clone(), id.clone());
                outcome = Outcome::Created;
                id
            }
        };
        let grid_id = match places.grids.get(&(community_id.clone(), grid_name.clone())) {
            Some(id) => id.clone(),
            None => {
                let id = store::new_id();
                plan.writes.grids.push(GridRow {
                    id: id.clone(),
                    community_id: community_id.clone(),
                    name: grid_name.clone(),
                });
                places
                    .grids
                    .insert((community_id.clone(), grid_name.clone()), id.clone());
                places.grid_community.insert(id.clone(), community_id.clone());
                outcome = Outcome::Created;
                id
            }
        };
        let key = (grid_id.clone(), building_name.clone());
        let unit = i64::from(unit.unwrap_or(1));
        let floor = floor
            .or_else(|| door.as_deref().and_then(cells::floor_from_door))
            .map_or(1, i64::from);
        let building_id = if let Some(&i) = places.buildings.get(&key) {
            let known = &places.territory.buildings[i];
            let current = updated_buildings.get(&known.id).map_or(
                (known.units, known.floors, known.doors_per_floor, known.address.clone()),
                |u| (u.units, u.floors, u.doors_per_floor, u.address.clone()),
            );
            // A building grows to hold the doors the file names; what the file
            // says of its shape is taken as written.
            let wanted = (
                units.map_or(current.0, i64::from).max(unit),
                floors.map_or(current.1, i64::from).max(floor),
                doors.map_or(current.2, i64::from),
                address.clone().unwrap_or_else(|| current.3.clone()),
            );
            if wanted != current {
                updated_buildings.insert(
                    known.id.clone(),
                    BuildingUpdate {
                        id: known.id.clone(),
                        grid_id: grid_id.clone(),
                        address: wanted.3,
                        units: wanted.0,
                        floors: wanted.1,
                        doors_per_floor: wanted.2,
                        footprint: known.footprint.clone(),
                    },
                );
                outcome = outcome.max(Outcome::Updated);
            }
            known.id.clone()
        } else if let Some(&i) = new_index.get(&key) {
            let b = &mut new_buildings[i];
            b.given = (b.given.0.or(units), b.given.1.or(floors), b.given.2.or(doors));
            b.row.units = b.row.units.max(unit);
            b.row.floors = b.row.floors.max(floor);
            b.row.id.clone()
        } else {
            let id = store::new_id();
            let number = building_name
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0);
            new_index.insert(key, new_buildings.len());
            new_buildings.push(NewBuilding {
                row: BuildingRow {
                    id: id.clone(),
                    grid_id: grid_id.clone(),
                    number,
                    name: building_name.clone(),
                    address: address
                        .clone()
                        .unwrap_or_else(|| format!("{community_name}{building_name}")),
                    units: unit,
                    floors: floor,
                    doors_per_floor: 1,
                    footprint: String::new(),
                },
                given: (units, floors, doors),
                doors: HashMap::new(),
            });
            outcome = Outcome::Created;
            id
        };
        if let Some(door) = door {
            let key = (building_id.clone(), unit, door.clone());
            if let Some(first) = seen_doors.get(&key) {
                plan.refuse(
                    table,
                    row,
                    Some(Field::Door),
                    format!("与第{first}行是同一户（楼栋、单元、门牌号都相同）"),
                );
                continue;
            }
            seen_doors.insert(key.clone(), row.number);
            match places.households.get(&key) {
                Some(&i) => {
                    let known = &places.territory.households[i];
                    if known.floor != floor {
                        plan.writes
                            .household_floors
                            .push((known.id.clone(), floor, grid_id.clone()));
                        outcome = outcome.max(Outcome::Updated);
                    }
                }
                None => {
                    let household = HouseholdRow {
                        id: store::new_id(),
                        building_id: building_id.clone(),
                        unit,
                        floor,
                        door_number: door,
                        created_at: now,
                        updated_at: now,
                    };
                    plan.writes.households.push((household, grid_id.clone()));
                    if let Some(&i) = new_index.get(&(grid_id.clone(), building_name.clone())) {
                        *new_buildings[i].doors.entry((unit, floor)).or_default() += 1;
                    }
                    outcome = Outcome::Created;
                }
            }
        }
        plan.count(outcome);
    }
    lay_out(&mut new_buildings, &places.territory);
    plan.writes.buildings = new_buildings.into_iter().map(|b| b.row).collect();
    plan.writes.building_updates = updated_buildings.into_values().collect();
    plan.finished()
}

/// A text a row must have.
fn required_text(what: &'static str) -> impl Fn(&super::Cell) -> Result<String, String> {
    move |cell| cells::value(cell)?.ok_or_else(|| format!("请填写{what}"))
}

/// New buildings' shapes: the file's floors × units × doors where it gives
/// them, else what its doors show; and a place on the map beside the grid's
/// other buildings (real footprints come from a GeoJSON file).
fn lay_out(buildings: &mut [NewBuilding], territory: &Territory) {
    let mut layout = Layout::new(territory);
    for b in buildings.iter_mut() {
        let (units, floors, doors) = b.given;
        b.row.units = units.map_or(b.row.units, i64::from).clamp(1, 20);
        b.row.floors = floors.map_or(b.row.floors, i64::from).clamp(1, 120);
        let most_doors = b.doors.values().copied().max().unwrap_or(1) as i64;
        b.row.doors_per_floor = doors.map_or(most_doors, i64::from).clamp(1, 20);
        b.row.footprint = layout.place(&b.row.grid_id, b.row.units);
    }
}

fn residents_plan(
    table: &Table,
    places: &Places,
    community: Option<&str>,
    known: &[KnownResident],
    now: i64,
    today: CivilDate,
) -> Plan {
    let mut plan = Plan::default();
    let by_number: HashMap<&str, &KnownResident> = known
        .iter()
        .filter_map(|r| r.id_number.as_deref().map(|n| (n, r)))
        .collect();
    let by_name: HashMap<(&str, &str), &KnownResident> = known
        .iter()
        .map(|r| ((r.household_id.as_str(), r.name.as_str()), r))
        .collect();
    let households: HashMap<&str, &store::import::KnownHousehold> =
        places.territory.households.iter().map(|h| (h.id.as_str(), h)).collect();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for row in &table.rows {
        let name = take!(plan, table, row, Field::Name, required_text("姓名"));
        let id = take!(plan, table, row, Field::IdNumber, cells::id_number);
        let gender = take!(plan, table, row, Field::Gender, cells::gender);
        let birth = take!(plan, table, row, Field::BirthDate, cells::date);
        let phone = take!(plan, table, row, Field::Phone, cells::phone);
        let registration = take!(plan, table, row, Field::RegistrationType, cells::registration_type);
        let tags = take!(plan, table, row, Field::KeyGroups, cells::tags);
        let community_name = take!(plan, table, row, Field::Community, cells::value).unwrap_or_default();
        let grid_name = take!(plan, table, row, Field::Grid, cells::value).unwrap_or_default();
        let building_name = take!(plan, table, row, Field::Building, required_text("楼栋"));
        let unit = take!(plan, table, row, Field::Unit, |c| cells::positive_integer(
            c,
            "单元",
            1..=20
        ));
        let door = take!(plan, table, row, Field::Door, |c| cells::door_number(c)?
            .ok_or("请填写门牌号".to_owned()));

        // Gender and birth date are in the ID number; given as well, they must agree.
        let (gender, birth) = match (&id, gender, birth) {
            (Some(id), gender, birth) => {
                let from_id = CivilDate::parse(&id.birth_date());
                if gender.is_some_and(|g| g != id.gender()) {
                    plan.refuse(table, row, Some(Field::Gender), "性别与身份证号不一致");
                    continue;
                }
                (id.gender(), birth.or(from_id))
            }
            (None, Some(gender), Some(birth)) => (gender, Some(birth)),
            (None, _, _) => {
                plan.refuse(
                    table,
                    row,
                    Some(Field::IdNumber),
                    "没有身份证号时，请填写性别和出生日期",
                );
                continue;
            }
        };
        let Some(birth) = birth else {
            plan.refuse(table, row, Some(Field::BirthDate), "请填写出生日期");
            continue;
        };

        let candidates = places.buildings_named(&building_name, &grid_name, &community_name);
        let building = match candidates[..] {
            [one] => one,
            [] => {
                plan.refuse(
                    table,
                    row,
                    Some(Field::Building),
                    format!("没有找到楼栋「{building_name}」：请先导入房屋台账，或核对楼栋名称"),
                );
                continue;
            }
            _ => {
                plan.refuse(
                    table,
                    row,
                    Some(Field::Grid),
                    format!("有多个楼栋叫「{building_name}」：请填写网格"),
                );
                continue;
            }
        };
        let unit = i64::from(unit.unwrap_or(1));
        let Some(&h) = places.households.get(&(building.id.clone(), unit, door.clone())) else {
            plan.refuse(
                table,
                row,
                Some(Field::Door),
                format!("{building_name} {unit}单元没有门牌号 {door}：请先在房屋台账中加上这一户"),
            );
            continue;
        };
        let household = &places.territory.households[h];

        let input = ResidentInput {
            id: String::new(),
            household_id: household.id.clone(),
            name: name.clone(),
            gender,
            birth_date: birth.to_string(),
            id_number: id.as_ref().map(|i| i.as_str().to_owned()),
            phone: phone.as_ref().map(|p| p.as_str().to_owned()),
            registration_type: registration.unwrap_or(RegistrationType::Permanent),
            tags: tags.clone(),
        };
        // The rule the phone applies to a new resident, here too.
        if let Err(errors) = input.validate(today) {
            let field = match errors[0].0 {
                "birth_date" => Field::BirthDate,
                "id_number" => Field::IdNumber,
                "phone" => Field::Phone,
                _ => Field::Name,
            };
            plan.refuse(table, row, Some(field), describe(&errors));
            continue;
        }
        let person = match &id {
            Some(id) => format!("id:{}", id.as_str()),
            None => format!("name:{}:{name}", household.id),
        };
        if let Some(first) = seen.get(&person) {
            plan.refuse(table, row, Some(Field::IdNumber), format!("与第{first}行是同一人"));
            continue;
        }
        seen.insert(person, row.number);

        let existing = match &id {
            Some(id) => by_number.get(id.as_str()).copied(),
            None => by_name.get(&(household.id.as_str(), name.as_str())).copied(),
        };
        let grid_id = building.grid_id.clone();
        let mut sorted_tags: Vec<String> = tags.iter().map(|t| t.as_str().to_owned()).collect();
        sorted_tags.sort();
        sorted_tags.dedup();
        let resident = |id: String| ResidentRow {
            id,
            household_id: household.id.clone(),
            name: input.name.trim().to_owned(),
            gender: input.gender.as_str().to_owned(),
            birth_date: input.birth_date.clone(),
            id_number: input.id_number.clone(),
            phone: input.phone.clone(),
            registration_type: input.registration_type.as_str().to_owned(),
            created_at: now,
            updated_at: now,
        };
        match existing {
            None => {
                let row = resident(store::new_id());
                for tag in &sorted_tags {
                    plan.writes.resident_tags.push(ResidentTagRow {
                        resident_id: row.id.clone(),
                        tag: tag.clone(),
                    });
                }
                plan.writes.residents.push((row, grid_id));
                plan.count(Outcome::Created);
            }
            Some(known) if community.is_some_and(|own| own != known.community_id) => {
                plan.refuse(
                    table,
                    row,
                    Some(Field::IdNumber),
                    "此人已登记在其他社区：请原社区办理迁出，或请管理员导入",
                );
            }
            Some(known) => {
                let new = resident(known.id.clone());
                let mut fields = Vec::new();
                let pairs: [(&'static str, bool); 7] = [
                    ("name", known.name != new.name),
                    ("gender", known.gender != new.gender),
                    ("birth_date", known.birth_date != new.birth_date),
                    ("id_number", known.id_number != new.id_number),
                    ("phone", known.phone != new.phone && new.phone.is_some()),
                    ("registration_type", known.registration_type != new.registration_type),
                    ("household_id", known.household_id != new.household_id),
                ];
                fields.extend(pairs.iter().filter(|(_, changed)| *changed).map(|(f, _)| *f));
                if known.moved_out {
                    fields.push("moved_out");
                }
                let tags_changed = known.tags != sorted_tags.join(",");
                if fields.is_empty() && !tags_changed {
                    plan.count(Outcome::Unchanged);
                    continue;
                }
                if known.household_id != new.household_id {
                    let from = households
                        .get(known.household_id.as_str())
                        .map_or("其他社区".to_owned(), |h| {
                            format!("{}单元 {}", h.unit, h.door_number)
                        });
                    plan.notes.push(format!(
                        "第{}行 {}：从 {from} 迁到 {building_name} {unit}单元 {door}",
                        row.number, new.name
                    ));
                }
                // A phone number left empty in the file keeps the one on record.
                let new = ResidentRow {
                    phone: new.phone.or_else(|| known.phone.clone()),
                    ..new
                };
                plan.writes.resident_updates.push(ResidentUpdate {
                    row: new,
                    grid_id,
                    fields,
                    tags: sorted_tags,
                });
                plan.count(Outcome::Updated);
            }
        }
    }
    plan.finished()
}

fn staff_plan(
    table: &Table,
    places: &Places,
    community: Option<&str>,
    in_scope: &[store::staff::StaffRow],
    everyone: &[store::staff::StaffRow],
) -> Plan {
    let mut plan = Plan::default();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for row in &table.rows {
        let username = take!(plan, table, row, Field::Username, required_text("用户名")).to_lowercase();
        if let Err(reason) = crate::staff::users::check_username(&username) {
            plan.refuse(table, row, Some(Field::Username), reason);
            continue;
        }
        let name = take!(plan, table, row, Field::Name, required_text("姓名"));
        let role = take!(plan, table, row, Field::Role, |c| cells::role(c)?
            .ok_or("请填写角色".to_owned()));
        let community_name = take!(plan, table, row, Field::Community, cells::value).unwrap_or_default();
        let grid_names = take!(plan, table, row, Field::Grid, cells::names_list);
        if let Some(first) = seen.insert(username.clone(), row.number) {
            plan.refuse(table, row, Some(Field::Username), format!("与第{first}行的用户名相同"));
            continue;
        }
        if name.chars().count() > 30 {
            plan.refuse(table, row, Some(Field::Name), "姓名不能超过30个字");
            continue;
        }
        if community.is_some() && role != Role::Worker {
            plan.refuse(
                table,
                row,
                Some(Field::Role),
                "网格长只能导入网格员；网格长和管理员由管理员创建",
            );
            continue;
        }
        let community_id = match places.row_community(&community_name, community) {
            Ok(id) => id,
            Err(reason) => {
                plan.refuse(table, row, Some(Field::Community), reason);
                continue;
            }
        };
        if role == Role::Lead && community_id.is_none() {
            plan.refuse(table, row, Some(Field::Community), "网格长须填写社区");
            continue;
        }
        let mut grids = Vec::new();
        for grid in &grid_names {
            let found: Vec<&String> = places
                .grids
                .iter()
                .filter(|((c, g), _)| g == grid && community_id.as_ref().is_none_or(|own| own == c))
                .map(|(_, id)| id)
                .collect();
            match found[..] {
                [id] => grids.push(id.clone()),
                [] => {
                    plan.refuse(table, row, Some(Field::Grid), format!("没有找到网格「{grid}」"));
                    break;
                }
                _ => {
                    plan.refuse(
                        table,
                        row,
                        Some(Field::Community),
                        format!("有多个网格叫「{grid}」：请填写社区"),
                    );
                    break;
                }
            }
        }
        if grids.len() != grid_names.len() {
            continue;
        }
        if role != Role::Worker && !grids.is_empty() {
            plan.refuse(table, row, Some(Field::Grid), "只有网格员按网格分配");
            continue;
        }
        let existing = everyone.iter().find(|u| u.username == username);
        let change = StaffChange {
            username: username.clone(),
            display_name: name.clone(),
            role,
            community_id: community_id.filter(|_| role != Role::Admin),
            existing: existing.map(|u| u.id.clone()),
            grids: grids.clone(),
        };
        match existing {
            None => {
                plan.staff.push(change);
                plan.count(Outcome::Created);
            }
            Some(user) if !in_scope.iter().any(|u| u.id == user.id) => {
                plan.refuse(table, row, Some(Field::Username), "这个用户名已被其他社区使用");
            }
            Some(user) if user.role != role.as_str() => {
                plan.refuse(table, row, Some(Field::Role), "角色与现有账号不同：请在账号页修改");
            }
            Some(user) => {
                let mut current: Vec<&str> = user.grids.split('、').filter(|g| !g.is_empty()).collect();
                current.sort_unstable();
                let mut wanted: Vec<&str> = grid_names.iter().map(String::as_str).collect();
                wanted.sort_unstable();
                if user.display_name == name && (role != Role::Worker || current == wanted) {
                    plan.count(Outcome::Unchanged);
                } else {
                    plan.staff.push(change);
                    plan.count(Outcome::Updated);
                }
            }
        }
    }
    plan.finished()
}

/// Text of at most `max` characters on one line, or why not.
fn short_text(what: &'static str, max: usize) -> impl Fn(&super::Cell) -> Result<Option<String>, String> {
    move |cell| {
        let text = cells::value(cell)?;
        match &text {
            Some(t) if t.chars().count() > max || t.contains(['\n', '\r']) => {
                Err(format!("{what}最多{max}个字，且不能换行"))
            }
            _ => Ok(text),
        }
    }
}

/// In-service members (双报到): found by name, unit and work phone in their
/// community (the roster's own rule), so importing a file again updates
/// rather than registers twice.
fn party_plan(
    table: &Table,
    places: &Places,
    community: Option<&str>,
    members: &[store::party::MemberRow],
    today: CivilDate,
) -> Plan {
    let mut plan = Plan::default();
    let mut seen: HashMap<(String, String, String, String), u32> = HashMap::new();
    for row in &table.rows {
        let name = take!(plan, table, row, Field::Name, short_text("姓名", 20)).unwrap_or_default();
        let unit = take!(plan, table, row, Field::WorkUnit, short_text("工作单位", 50)).unwrap_or_default();
        let org = take!(plan, table, row, Field::PartyOrg, short_text("单位党组织", 50)).unwrap_or_default();
        let rank = take!(plan, table, row, Field::Rank, cells::rank);
        let phone = take!(plan, table, row, Field::WorkPhone, cells::work_phone);
        let branch = take!(plan, table, row, Field::Branch, short_text("党支部", 30)).unwrap_or_default();
        let group = take!(plan, table, row, Field::PartyGroup, short_text("党小组", 30)).unwrap_or_default();
        let registered = take!(plan, table, row, Field::RegisteredOn, cells::date);
        let community_name = take!(plan, table, row, Field::Community, cells::value).unwrap_or_default();
        let missing = [
            (name.is_empty(), Field::Name, "请填写姓名"),
            (unit.is_empty(), Field::WorkUnit, "请填写工作单位"),
            (rank.is_none(), Field::Rank, "请填写职级类别"),
            (phone.is_none(), Field::WorkPhone, "请填写工作电话"),
            (branch.is_empty(), Field::Branch, "请填写党支部"),
        ];
        if let Some((_, field, reason)) = missing.iter().find(|(gone, _, _)| *gone) {
            plan.refuse(table, row, Some(*field), *reason);
            continue;
        }
        let (Some(rank), Some(phone)) = (rank, phone) else {
            continue;
        };
        if registered.is_some_and(|day| day > today) {
            plan.refuse(table, row, Some(Field::RegisteredOn), "报到日期不能晚于今天");
            continue;
        }
        let community_id = match places.row_community(&community_name, community) {
            Ok(Some(id)) => id,
            Ok(None) => {
                plan.refuse(table, row, Some(Field::Community), "请填写社区");
                continue;
            }
            Err(reason) => {
                plan.refuse(table, row, Some(Field::Community), reason);
                continue;
            }
        };
        let key = (community_id.clone(), name.clone(), unit.clone(), phone.clone());
        if let Some(first) = seen.insert(key, row.number) {
            plan.refuse(
                table,
                row,
                Some(Field::Name),
                format!("与第{first}行是同一人（姓名、工作单位、工作电话相同）"),
            );
            continue;
        }
        let existing = members.iter().find(|m| {
            m.kind == "in_service"
                && m.community_id == community_id
                && m.name == name
                && m.unit == unit
                && m.work_phone.as_deref() == Some(phone.as_str())
        });
        // A blank cell keeps what is on record (a new member: none, or today).
        let change = PartyChange {
            community_id,
            name,
            unit,
            unit_party_org: match (org.is_empty(), existing) {
                (true, Some(m)) => m.unit_party_org.clone(),
                _ => org,
            },
            rank,
            work_phone: phone,
            branch,
            group: match (group.is_empty(), existing) {
                (true, Some(m)) => m.group_name.clone().unwrap_or_default(),
                _ => group,
            },
            registered_on: match (registered, existing) {
                (Some(day), _) => day.to_string(),
                (None, Some(m)) => m.registered_on.clone(),
                (None, None) => today.to_string(),
            },
            existing: existing.map(|m| m.id.clone()),
        };
        match existing {
            None => {
                plan.party.push(change);
                plan.count(Outcome::Created);
            }
            Some(m)
                if m.unit_party_org == change.unit_party_org
                    && m.rank == change.rank.as_str()
                    && m.branch == change.branch
                    && m.group_name.as_deref().unwrap_or("") == change.group
                    && m.registered_on == change.registered_on =>
            {
                plan.count(Outcome::Unchanged);
            }
            Some(_) => {
                plan.party.push(change);
                plan.count(Outcome::Updated);
            }
        }
    }
    plan.finished()
}
