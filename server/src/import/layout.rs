//! Where a building without a surveyed outline goes on the map: a plain grid
//! beside its grid's other buildings, rows of eight slabs, each grid's block
//! south of the one before. Good enough to find it and to colour it by
//! coverage; a GeoJSON upload (`footprints`) replaces it with the real shape.

use std::collections::HashMap;

use store::import::Territory;

const M_PER_DEG_LAT: f64 = 111_320.0;

pub struct Layout {
    /// (lon, lat) of the territory's first building, or central Beijing.
    origin: (f64, f64),
    /// Buildings placed so far in each grid.
    per_grid: HashMap<String, usize>,
    /// Grids in the order their blocks go south.
    grids: Vec<String>,
}

impl Layout {
    pub fn new(territory: &Territory) -> Self {
        let origin = territory
            .buildings
            .first()
            .and_then(|b| first_point(&b.footprint))
            .unwrap_or((116.397, 39.909));
        let mut per_grid: HashMap<String, usize> = HashMap::new();
        let mut grids = Vec::new();
        for b in &territory.buildings {
            let placed = per_grid.entry(b.grid_id.clone()).or_default();
            if *placed == 0 {
                grids.push(b.grid_id.clone());
            }
            *placed += 1;
        }
        Layout {
            origin,
            per_grid,
            grids,
        }
    }

    /// The next place in the grid, as a GeoJSON Polygon: a slab 16 m a unit
    /// wide and 12 m deep, 65 m between columns and 55 m between rows.
    pub fn place(&mut self, grid_id: &str, units: i64) -> String {
        if !self.grids.iter().any(|g| g == grid_id) {
            self.grids.push(grid_id.to_owned());
        }
        let block = self.grids.iter().position(|g| g == grid_id).unwrap_or(0) as f64;
        let slot = self.per_grid.entry(grid_id.to_owned()).or_default();
        let (col, line) = ((*slot % 8) as f64, (*slot / 8) as f64);
        *slot += 1;
        let (x, y) = (col * 65.0, -(block * 4.0 + line + 1.0) * 55.0);
        let width = 16.0 * units as f64;
        let m_per_deg_lon = M_PER_DEG_LAT * self.origin.1.to_radians().cos();
        let ring: Vec<String> = [(0.0, 0.0), (width, 0.0), (width, 12.0), (0.0, 12.0), (0.0, 0.0)]
            .iter()
            .map(|(dx, dy)| {
                format!(
                    "[{:.6},{:.6}]",
                    self.origin.0 + (x + dx) / m_per_deg_lon,
                    self.origin.1 + (y + dy) / M_PER_DEG_LAT
                )
            })
            .collect();
        format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, ring.join(","))
    }
}

fn first_point(footprint: &str) -> Option<(f64, f64)> {
    let value: serde_json::Value = serde_json::from_str(footprint).ok()?;
    let point = &value["coordinates"][0][0];
    Some((point[0].as_f64()?, point[1].as_f64()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_grids_get_blocks_of_their_own() {
        let mut layout = Layout::new(&Territory::default());
        let a1 = layout.place("a", 2);
        let b1 = layout.place("b", 2);
        let a2 = layout.place("a", 2);
        assert_ne!(a1, b1, "two new grids do not share a place");
        assert_ne!(a1, a2);
        assert!(
            a1.starts_with(r#"{"type":"Polygon","coordinates":[[[116.397000,"#),
            "{a1}"
        );
    }
}
