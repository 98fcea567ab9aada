//! Building footprints from a GeoJSON file, as a survey or a mapping tool
//! exports them (a FeatureCollection of Polygons or MultiPolygons in WGS84,
//! each named in its properties), matched to buildings by name. Buildings
//! without one keep their plain-grid place on the map.

use serde_json::Value;

/// A named outline read from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    pub name: String,
    /// The grid named beside it, if the file says (to tell same-named buildings apart).
    pub grid: Option<String>,
    /// A GeoJSON Polygon, as the buildings table keeps it.
    pub polygon: String,
}

/// Outlines matched to the buildings of a territory by name (and grid name
/// where the file gives one).
#[derive(Debug, Default)]
pub struct Matched {
    /// (building id, grid id, polygon).
    pub found: Vec<(String, String, String)>,
    pub unknown: Vec<String>,
    /// Names that fit several buildings: the file should name the grid.
    pub ambiguous: Vec<String>,
}

pub fn match_buildings(territory: &store::import::Territory, outlines: Vec<Outline>) -> Matched {
    let mut matched = Matched::default();
    for outline in outlines {
        let candidates: Vec<&store::import::KnownBuilding> = territory
            .buildings
            .iter()
            .filter(|b| b.name == outline.name)
            .filter(|b| {
                outline
                    .grid
                    .as_ref()
                    .is_none_or(|grid| territory.grids.iter().any(|g| g.id == b.grid_id && g.name == *grid))
            })
            .collect();
        match candidates[..] {
            [b] => matched.found.push((b.id.clone(), b.grid_id.clone(), outline.polygon)),
            [] => matched.unknown.push(outline.name),
            _ => matched.ambiguous.push(outline.name),
        }
    }
    matched
}

/// Properties people name buildings by in GIS exports.
const NAME_KEYS: &[&str] = &["name", "NAME", "Name", "楼栋", "楼栋名称", "名称", "楼号"];
const GRID_KEYS: &[&str] = &["grid", "GRID", "网格", "网格名称"];
/// Points per outline: a building, not a coastline.
const MAX_POINTS: usize = 2_000;

/// The outlines of a GeoJSON file, or why it cannot be used (in Chinese).
/// Features without a name are skipped and counted.
pub fn read(bytes: &[u8]) -> Result<(Vec<Outline>, usize), String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|_| "不是 GeoJSON 文件（无法按 JSON 读取）".to_owned())?;
    let features = match value["type"].as_str() {
        Some("FeatureCollection") => value["features"].as_array().cloned().unwrap_or_default(),
        Some("Feature") => vec![value.clone()],
        _ => return Err("GeoJSON 应为 FeatureCollection（要素集合）".into()),
    };
    let mut outlines = Vec::new();
    let mut unnamed = 0;
    for feature in &features {
        let properties = &feature["properties"];
        let text = |keys: &[&str]| {
            keys.iter().find_map(|k| match &properties[*k] {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let Some(name) = text(NAME_KEYS) else {
            unnamed += 1;
            continue;
        };
        let ring = outer_ring(&feature["geometry"]).map_err(|e| format!("「{name}」：{e}"))?;
        outlines.push(Outline {
            name,
            grid: text(GRID_KEYS),
            polygon: polygon(&ring),
        });
    }
    Ok((outlines, unnamed))
}

/// The outer ring of a Polygon, or of a MultiPolygon's largest part.
fn outer_ring(geometry: &Value) -> Result<Vec<(f64, f64)>, String> {
    let rings: Vec<&Value> = match geometry["type"].as_str() {
        Some("Polygon") => vec![&geometry["coordinates"][0]],
        Some("MultiPolygon") => geometry["coordinates"]
            .as_array()
            .map(|parts| parts.iter().map(|p| &p[0]).collect())
            .unwrap_or_default(),
        _ => return Err("只支持面（Polygon / MultiPolygon）".into()),
    };
    let mut best: Option<Vec<(f64, f64)>> = None;
    for ring in rings {
        let points: Vec<(f64, f64)> = ring
            .as_array()
            .ok_or("坐标格式不正确")?
            .iter()
            .map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
            .collect::<Option<_>>()
            .ok_or("坐标格式不正确")?;
        if points.len() < 4 || points.len() > MAX_POINTS {
            return Err(format!("轮廓应有4到{MAX_POINTS}个点"));
        }
        // Mainland China in WGS84; projected metres (or swapped axes) are not.
        if !points
            .iter()
            .all(|(lon, lat)| (73.0..=136.0).contains(lon) && (3.0..=54.0).contains(lat))
        {
            return Err("坐标不是经纬度（WGS84）：请导出为 EPSG:4326 后再上传".into());
        }
        if best.as_ref().is_none_or(|b| area(&points) > area(b)) {
            best = Some(points);
        }
    }
    best.ok_or_else(|| "没有轮廓".to_owned())
}

fn area(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum::<f64>()
        .abs()
        / 2.0
}

/// A closed ring as the stored Polygon text.
fn polygon(ring: &[(f64, f64)]) -> String {
    let mut points: Vec<String> = ring.iter().map(|(x, y)| format!("[{x:.6},{y:.6}]")).collect();
    if ring.first() != ring.last()
        && let Some(first) = points.first().cloned()
    {
        points.push(first);
    }
    format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, points.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_polygons_and_the_largest_part_of_a_multipolygon() {
        let file = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"楼栋":"3号楼","网格":"第1网格"},
             "geometry":{"type":"Polygon","coordinates":[[[120.15,30.28],[120.1502,30.28],[120.1502,30.2801],[120.15,30.2801]]]}},
            {"type":"Feature","properties":{"name":"5号楼"},
             "geometry":{"type":"MultiPolygon","coordinates":[
                [[[120.16,30.29],[120.1601,30.29],[120.1601,30.2901],[120.16,30.29]]],
                [[[120.17,30.29],[120.1710,30.29],[120.1710,30.2910],[120.17,30.2910],[120.17,30.29]]]]}},
            {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[]}}]}"#;
        let (outlines, unnamed) = read(file.as_bytes()).unwrap();
        assert_eq!(unnamed, 1);
        assert_eq!(outlines[0].name, "3号楼");
        assert_eq!(outlines[0].grid.as_deref(), Some("第1网格"));
        assert!(
            outlines[0].polygon.ends_with("[120.150000,30.280000]]]}"),
            "closed: {}",
            outlines[0].polygon
        );
        assert!(outlines[1].polygon.contains("120.171000"), "the larger part");
    }

    #[test]
    fn files_that_cannot_be_used_say_why() {
        assert!(read(b"not json").unwrap_err().contains("GeoJSON"));
        assert!(read(br#"{"type":"Point"}"#).unwrap_err().contains("FeatureCollection"));
        let metres = r#"{"type":"Feature","properties":{"name":"1号楼"},"geometry":{"type":"Polygon",
            "coordinates":[[[500000,3350000],[500020,3350000],[500020,3350012],[500000,3350000]]]}}"#;
        assert!(read(metres.as_bytes()).unwrap_err().contains("EPSG:4326"));
        let line =
            r#"{"type":"Feature","properties":{"name":"1号楼"},"geometry":{"type":"LineString","coordinates":[]}}"#;
        assert!(read(line.as_bytes()).unwrap_err().contains("Polygon"));
    }
}
