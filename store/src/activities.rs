//! Activities and volunteers (`volunteer_teams`, `volunteer_team_members`,
//! `activities`, `activity_signups`, `activity_attendance`): a community's
//! teams, its activity calendar, the public sign-ups and the attendance that
//! credits service hours. Nothing here enters the change feed yet: phones do
//! not hold activities. Writes run in the caller's transaction, beside the
//! audit row that records them; the public sign-up is its own transaction.

use crate::engine::{on_pool, on_tx};
use crate::{Result, Store, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamRow {
    pub id: String,
    pub community_id: String,
    pub name: String,
    pub members: i64,
}

/// Someone who can be on a team and attend: `kind` `member` (a party member,
/// `id` theirs) or `resident` (a resident volunteer, `id` the resident's).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    pub kind: String,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    pub id: String,
    pub community_id: String,
    pub team_id: Option<String>,
    pub team_name: Option<String>,
    pub title: String,
    pub place: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub credit_minutes: i64,
    /// The 活动通知 it was published as.
    pub notice_id: Option<String>,
    pub signups: i64,
    pub attended: i64,
}

/// What a lead writes of an activity.
#[derive(Debug, Clone, Copy)]
pub struct ActivityFields<'a> {
    pub team_id: Option<&'a str>,
    pub title: &'a str,
    pub place: &'a str,
    pub starts_at: i64,
    pub ends_at: i64,
    pub credit_minutes: i64,
}

/// A public sign-up, as the lead sees it (the phone whole, for masking).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignupRow {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct NewSignup<'a> {
    pub activity_id: &'a str,
    pub name: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub address_key: &'a str,
    pub at: i64,
}

/// One check-in on the attendance sheet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttendanceRow {
    pub id: String,
    pub kind: String,
    pub attendee_id: String,
    pub name: String,
    pub checked_in_at: i64,
    pub checked_in_by: String,
    pub credit_minutes: i64,
}

/// A check-in: `member` or `resident` names the attendee.
#[derive(Debug, Clone, Copy)]
pub struct CheckIn<'a> {
    pub activity_id: &'a str,
    pub member: Option<&'a str>,
    pub resident: Option<&'a str>,
    pub by: &'a str,
    pub credit_minutes: i64,
    pub at: i64,
}

/// A team's activity with how many of the team's current members attended it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TurnoutRow {
    pub team_id: String,
    pub team_name: String,
    pub activity_id: String,
    pub starts_at: i64,
    pub team_members: i64,
    pub attended_members: i64,
}

const TEAMS: &str = "SELECT t.id, t.community_id, t.name,
            CAST((SELECT COUNT(*) FROM volunteer_team_members m WHERE m.team_id = t.id) AS BIGINT) AS members
     FROM volunteer_teams t";
const INSERT_TEAM: &str = "INSERT INTO volunteer_teams (id, community_id, name, created_at) VALUES ($1, $2, $3, $4)";
const TEAM_MEMBERS: &str = "SELECT 'member' AS kind, m.member_id AS id, COALESCE(r.name, p.name) AS name
     FROM volunteer_team_members m JOIN party_members p ON p.id = m.member_id
     LEFT JOIN residents r ON r.id = p.resident_id
     WHERE m.team_id = $1
     UNION ALL
     SELECT 'resident', m.resident_id, r.name
     FROM volunteer_team_members m JOIN residents r ON r.id = m.resident_id
     WHERE m.team_id = $1
     ORDER BY 3, 2";
/// A second add of the same person changes nothing (a form sent twice).
const ADD_TEAM_MEMBER: &str = "INSERT INTO volunteer_team_members (team_id, member_id, resident_id, added_at)
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
const REMOVE_TEAM_MEMBER: &str = "DELETE FROM volunteer_team_members
     WHERE team_id = $1 AND (member_id = $2 OR resident_id = $2)";
const ACTIVITIES: &str = "SELECT a.id, a.community_id, a.team_id, t.name AS team_name, a.title, a.place,
            a.starts_at, a.ends_at, a.credit_minutes, a.notice_id,
            CAST((SELECT COUNT(*) FROM activity_signups s WHERE s.activity_id = a.id) AS BIGINT) AS signups,
            CAST((SELECT COUNT(*) FROM activity_attendance x WHERE x.activity_id = a.id) AS BIGINT) AS attended
     FROM activities a LEFT JOIN volunteer_teams t ON t.id = a.team_id";
const INSERT_ACTIVITY: &str = "INSERT INTO activities (id, community_id, team_id, title, place, starts_at, ends_at,
            credit_minutes, notice_id, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10, $10)";
const UPDATE_ACTIVITY: &str = "UPDATE activities SET team_id = $2, title = $3, place = $4, starts_at = $5,
            ends_at = $6, credit_minutes = $7, updated_at = $8
     WHERE id = $1";
const SET_NOTICE: &str = "UPDATE activities SET notice_id = $2, updated_at = $3 WHERE id = $1";
const SIGNUPS: &str = "SELECT name, phone, at FROM activity_signups WHERE activity_id = $1 ORDER BY at, id";
const SIGNUPS_FROM: &str = "SELECT COUNT(*) FROM activity_signups WHERE activity_id = $1 AND address_key = $2";
const INSERT_SIGNUP: &str = "INSERT INTO activity_signups (id, activity_id, name, phone, address_key, at)
     VALUES ($1, $2, $3, $4, $5, $6)";
const ATTENDANCE: &str = "SELECT x.id,
            CASE WHEN x.member_id IS NULL THEN 'resident' ELSE 'member' END AS kind,
            COALESCE(x.member_id, x.resident_id) AS attendee_id,
            COALESCE(pr.name, p.name, r.name) AS name, x.checked_in_at, u.display_name AS checked_in_by,
            x.credit_minutes
     FROM activity_attendance x
     LEFT JOIN party_members p ON p.id = x.member_id LEFT JOIN residents pr ON pr.id = p.resident_id
     LEFT JOIN residents r ON r.id = x.resident_id
     JOIN users u ON u.id = x.checked_in_by";
/// No conflict target: either partial unique index (member or resident) may
/// be the one a repeated check-in meets; the row already there stands.
const CHECK_IN: &str = "INSERT INTO activity_attendance
            (id, activity_id, member_id, resident_id, checked_in_at, checked_in_by, credit_minutes)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
const CHECKED_IN: &str = "SELECT id FROM activity_attendance
     WHERE activity_id = $1 AND (member_id = $2 OR resident_id = $3)";
const TURNOUT: &str = "SELECT t.id AS team_id, t.name AS team_name, a.id AS activity_id, a.starts_at,
            CAST((SELECT COUNT(*) FROM volunteer_team_members m WHERE m.team_id = t.id) AS BIGINT) AS team_members,
            CAST((SELECT COUNT(*) FROM activity_attendance x JOIN volunteer_team_members m
                    ON m.team_id = t.id AND (m.member_id = x.member_id OR m.resident_id = x.resident_id)
                  WHERE x.activity_id = a.id) AS BIGINT) AS attended_members
     FROM activities a JOIN volunteer_teams t ON t.id = a.team_id
     WHERE a.community_id = $1 AND a.starts_at >= $2 AND a.starts_at < $3
     ORDER BY t.name, t.id, a.starts_at";

impl Store {
    /// A community's teams by name.
    pub async fn volunteer_teams(&self, community_id: &str) -> Result<Vec<TeamRow>> {
        let sql = format!("{TEAMS} WHERE t.community_id = $1 ORDER BY t.name");
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(community_id)
            .fetch_all(c)
            .await)
    }

    pub async fn volunteer_team(&self, id: &str) -> Result<Option<TeamRow>> {
        let sql = format!("{TEAMS} WHERE t.id = $1");
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await)
    }

    /// A team's party members and resident volunteers, by name.
    pub async fn volunteer_team_members(&self, team_id: &str) -> Result<Vec<PersonRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(TEAM_MEMBERS)
            .bind(team_id)
            .fetch_all(c)
            .await)
    }

    /// A community's activities starting in `[from, to)`, by start.
    pub async fn activities_between(&self, community_id: &str, from: i64, to: i64) -> Result<Vec<ActivityRow>> {
        let sql = format!(
            "{ACTIVITIES} WHERE a.community_id = $1 AND a.starts_at >= $2 AND a.starts_at < $3
             ORDER BY a.starts_at, a.id"
        );
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(community_id)
            .bind(from)
            .bind(to)
            .fetch_all(c)
            .await)
    }

    pub async fn activity(&self, id: &str) -> Result<Option<ActivityRow>> {
        let sql = format!("{ACTIVITIES} WHERE a.id = $1");
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await)
    }

    pub async fn activity_signups(&self, activity_id: &str) -> Result<Vec<SignupRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(SIGNUPS)
            .bind(activity_id)
            .fetch_all(c)
            .await)
    }

    /// Sign-ups already sent for an activity from one address (its hash).
    pub async fn activity_signups_from(&self, activity_id: &str, address_key: &str) -> Result<i64> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(SIGNUPS_FROM)
            .bind(activity_id)
            .bind(address_key)
            .fetch_one(c)
            .await)
    }

    /// The attendance sheet, in check-in order.
    pub async fn activity_attendance(&self, activity_id: &str) -> Result<Vec<AttendanceRow>> {
        let sql = format!("{ATTENDANCE} WHERE x.activity_id = $1 ORDER BY x.checked_in_at, x.id");
        on_pool!(self.primary(), |c| sqlx::query_as(&sql)
            .bind(activity_id)
            .fetch_all(c)
            .await)
    }

    /// Each team activity starting in `[from, to)` with its team's turnout.
    pub async fn activity_turnout(&self, community_id: &str, from: i64, to: i64) -> Result<Vec<TurnoutRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(TURNOUT)
            .bind(community_id)
            .bind(from)
            .bind(to)
            .fetch_all(c)
            .await)
    }
}

impl Tx {
    /// A new team; a name the community has already fails unique.
    pub async fn insert_volunteer_team(&mut self, id: &str, community_id: &str, name: &str, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(INSERT_TEAM)
            .bind(id)
            .bind(community_id)
            .bind(name)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Adds a party member (`member`) or a resident volunteer (`resident`).
    pub async fn add_volunteer(
        &mut self,
        team_id: &str,
        member: Option<&str>,
        resident: Option<&str>,
        at: i64,
    ) -> Result<()> {
        on_tx!(self, |c| sqlx::query(ADD_TEAM_MEMBER)
            .bind(team_id)
            .bind(member)
            .bind(resident)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Takes a person (a party member's or a resident's id) off a team.
    pub async fn remove_volunteer(&mut self, team_id: &str, person_id: &str) -> Result<()> {
        on_tx!(self, |c| sqlx::query(REMOVE_TEAM_MEMBER)
            .bind(team_id)
            .bind(person_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn insert_activity(
        &mut self,
        id: &str,
        community_id: &str,
        f: ActivityFields<'_>,
        by: &str,
        at: i64,
    ) -> Result<()> {
        on_tx!(self, |c| sqlx::query(INSERT_ACTIVITY)
            .bind(id)
            .bind(community_id)
            .bind(f.team_id)
            .bind(f.title)
            .bind(f.place)
            .bind(f.starts_at)
            .bind(f.ends_at)
            .bind(f.credit_minutes)
            .bind(by)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn update_activity(&mut self, id: &str, f: ActivityFields<'_>, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(UPDATE_ACTIVITY)
            .bind(id)
            .bind(f.team_id)
            .bind(f.title)
            .bind(f.place)
            .bind(f.starts_at)
            .bind(f.ends_at)
            .bind(f.credit_minutes)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records the 活动通知 an activity was published as.
    pub async fn set_activity_notice(&mut self, id: &str, notice_id: &str, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SET_NOTICE)
            .bind(id)
            .bind(notice_id)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn insert_activity_signup(&mut self, s: NewSignup<'_>) -> Result<()> {
        on_tx!(self, |c| sqlx::query(INSERT_SIGNUP)
            .bind(crate::new_id())
            .bind(s.activity_id)
            .bind(s.name)
            .bind(s.phone)
            .bind(s.address_key)
            .bind(s.at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Checks an attendee in and answers `(row id, credited now)`: a second
    /// check-in of the same person finds the first row and credits nothing.
    pub async fn check_in(&mut self, x: CheckIn<'_>) -> Result<(String, bool)> {
        let id = crate::new_id();
        on_tx!(self, |c| {
            let inserted = sqlx::query(CHECK_IN)
                .bind(&id)
                .bind(x.activity_id)
                .bind(x.member)
                .bind(x.resident)
                .bind(x.at)
                .bind(x.by)
                .bind(x.credit_minutes)
                .execute(&mut *c)
                .await?
                .rows_affected()
                == 1;
            let row: String = sqlx::query_scalar(CHECKED_IN)
                .bind(x.activity_id)
                .bind(x.member)
                .bind(x.resident)
                .fetch_one(&mut *c)
                .await?;
            Ok((row, inserted))
        })
    }
}
