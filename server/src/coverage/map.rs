//! The coverage map: building footprints (GeoJSON polygons, lon/lat) drawn as
//! SVG, no tile server. Each building is coloured by the share of its
//! households visited in the period and links to its floors × units matrix.

use serde::Deserialize;

use super::GridFigures;

/// One building to draw.
pub struct MapBuilding {
    pub id: String,
    pub number: i64,
    pub footprint: String,
    pub figures: GridFigures,
}

#[derive(Deserialize)]
struct Polygon {
    coordinates: Vec<Vec<[f64; 2]>>,
}

/// The colour class for a share covered: the legend explains it.
pub fn band(visited: i64, households: i64) -> &'static str {
    if households == 0 {
        "none"
    } else if visited * 100 >= households * 80 {
        "good"
    } else if visited * 100 >= households * 50 {
        "fair"
    } else {
        "poor"
    }
}

const WIDTH: f64 = 1000.0;
const MARGIN: f64 = 20.0;

/// A footprint's outer ring in SVG units.
type Ring = Vec<(f64, f64)>;

/// The outer ring of each footprint, projected to SVG units: longitudes are
/// shrunk by cos(latitude) so buildings keep their shape, north is up.
/// Returns the rings and the view's height.
fn project(buildings: &[MapBuilding]) -> Option<(Vec<Ring>, f64)> {
    let rings: Vec<Vec<[f64; 2]>> = buildings
        .iter()
        .map(|b| {
            serde_json::from_str::<Polygon>(&b.footprint)
                .ok()
                .and_then(|p| p.coordinates.into_iter().next())
                .unwrap_or_default()
        })
        .collect();
    let points = || rings.iter().flatten();
    let lat0 = points().map(|p| p[1]).sum::<f64>() / points().count().max(1) as f64;
    let k = lat0.to_radians().cos();
    let xs = || points().map(|p| p[0] * k);
    let ys = || points().map(|p| -p[1]);
    let (min_x, max_x) = (xs().fold(f64::MAX, f64::min), xs().fold(f64::MIN, f64::max));
    let (min_y, max_y) = (ys().fold(f64::MAX, f64::min), ys().fold(f64::MIN, f64::max));
    if !(max_x > min_x && max_y > min_y) {
        return None;
    }
    let scale = (WIDTH - 2.0 * MARGIN) / (max_x - min_x);
    let height = (max_y - min_y) * scale + 2.0 * MARGIN;
    let projected = rings
        .iter()
        .map(|ring| {
            ring.iter()
                .map(|p| ((p[0] * k - min_x) * scale + MARGIN, (-p[1] - min_y) * scale + MARGIN))
                .collect()
        })
        .collect();
    Some((projected, height))
}

/// The map as an SVG element (inline in the coverage page).
pub fn svg(buildings: &[MapBuilding]) -> String {
    let Some((rings, height)) = project(buildings) else {
        return String::new();
    };
    let mut out =
        format!(r#"<svg class="map" viewBox="0 0 {WIDTH} {height:.0}" role="img" aria-label="楼栋走访覆盖地图">"#);
    for (b, ring) in buildings.iter().zip(rings) {
        if ring.is_empty() {
            continue;
        }
        let points: Vec<String> = ring.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let (cx, cy) = ring.iter().fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
        let n = ring.len() as f64;
        let share = b.figures.share();
        out.push_str(&format!(
            r#"<a href="/buildings/{id}"><title>{number}号楼：{share}% 已走访，{overdue} 户重点人群逾期</title><polygon class="b {band}{key}" points="{points}"/><text x="{x:.1}" y="{y:.1}">{number}</text></a>"#,
            id = b.id,
            number = b.number,
            overdue = b.figures.overdue_key,
            band = band(b.figures.visited, b.figures.households),
            key = if b.figures.overdue_key > 0 { " late" } else { "" },
            points = points.join(" "),
            x = cx / n,
            y = cy / n + 4.0,
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn building(id: &str, lon: f64, lat: f64, households: i64, visited: i64) -> MapBuilding {
        let ring = format!(
            "[[{lon},{lat}],[{},{lat}],[{},{}],[{lon},{}],[{lon},{lat}]]",
            lon + 0.0005,
            lon + 0.0005,
            lat + 0.0001,
            lat + 0.0001
        );
        MapBuilding {
            id: id.into(),
            number: 1,
            footprint: format!(r#"{{"type":"Polygon","coordinates":[{ring}]}}"#),
            figures: GridFigures {
                households,
                visited,
                overdue_key: 0,
            },
        }
    }

    #[test]
    fn bands_follow_the_legend() {
        assert_eq!(band(8, 10), "good");
        assert_eq!(band(79, 100), "fair");
        assert_eq!(band(5, 10), "fair");
        assert_eq!(band(4, 10), "poor");
        assert_eq!(band(0, 0), "none");
    }

    #[test]
    fn buildings_fit_the_view_north_up_and_link_to_their_matrix() {
        let map = svg(&[
            building("a", 120.150, 30.280, 10, 9),
            building("b", 120.152, 30.281, 10, 1),
        ]);
        assert!(map.starts_with("<svg class=\"map\" viewBox=\"0 0 1000 "));
        assert!(map.contains(r#"<a href="/buildings/a">"#) && map.contains("class=\"b good\""));
        assert!(map.contains("class=\"b poor\""));
        // Every point lies inside the view box.
        let (rings, height) = project(&[
            building("a", 120.150, 30.280, 1, 1),
            building("b", 120.152, 30.281, 1, 1),
        ])
        .unwrap();
        for (x, y) in rings.iter().flatten() {
            assert!((0.0..=WIDTH).contains(x) && (0.0..=height).contains(y), "{x},{y}");
        }
        // The northern building (b) is drawn higher up (smaller y).
        assert!(rings[1][0].1 < rings[0][0].1);
        assert_eq!(svg(&[]), "");
    }
}
