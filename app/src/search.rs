//! The grid page's search box.

/// What a search box query means: `3` a building or door, `3-502` building and
/// door, `3-2-502` building, unit and door. Any non-digit separates numbers,
/// so "3号楼2单元502" works too. Shared by the server's search and the offline one.
#[derive(Debug, PartialEq)]
pub struct DoorQuery {
    pub text: String,
    pub numbers: Vec<i64>,
}

impl DoorQuery {
    pub fn parse(text: &str) -> Self {
        let text: String = text.trim().chars().take(40).collect();
        let numbers = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .take(3)
            .collect();
        DoorQuery { text, numbers }
    }

    /// The door looked for: building number and unit (`None` matches any), door.
    pub fn door(&self) -> Option<(Option<i64>, Option<i64>, String)> {
        match self.numbers[..] {
            [door] => Some((None, None, door.to_string())),
            [building, door] => Some((Some(building), None, door.to_string())),
            [building, unit, door, ..] => Some((Some(building), Some(unit), door.to_string())),
            [] => None,
        }
    }

    /// Whether a building stays listed under the search.
    pub fn keeps_building(&self, number: i64, name: &str) -> bool {
        (self.numbers.len() <= 1 && name.contains(&self.text)) || self.numbers.first() == Some(&number)
    }
}

#[cfg(test)]
mod tests {
    use super::DoorQuery;

    #[test]
    fn door_queries() {
        assert_eq!(DoorQuery::parse(" 3-2-502 ").numbers, vec![3, 2, 502]);
        assert_eq!(DoorQuery::parse("3号楼2单元502").numbers, vec![3, 2, 502]);
        assert_eq!(DoorQuery::parse("502").numbers, vec![502]);
        assert!(DoorQuery::parse("春华").numbers.is_empty());
        assert_eq!(DoorQuery::parse("3-502").door(), Some((Some(3), None, "502".into())));
        assert!(DoorQuery::parse("3-502").keeps_building(3, "3号楼"));
        assert!(!DoorQuery::parse("3-502").keeps_building(4, "4号楼"));
    }
}
