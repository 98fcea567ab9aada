//! Party members' service (`visits.party_member_id`, `visits.service_minutes`,
//! `party_rules`, with `activity_attendance`): whose visits are whose, the
//! figures the 社区书记 asks for — each member's last visit (the overdue list),
//! their hours in a period from visits and activities (the 16-hour ledger) —
//! and the rows of each outside unit's quarterly report. Writes run in the
//! caller's transaction, beside the audit row that records them.

use crate::engine::{on_pool, on_tx};
use crate::{Result, Store, Tx};

/// A member's visits and activities in a period, with the minutes each gives.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceRow {
    pub member_id: String,
    pub visits: i64,
    pub visit_minutes: i64,
    pub activities: i64,
    pub activity_minutes: i64,
}

/// One member visit, for a unit's report and the member's page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberVisitRow {
    pub member_id: String,
    pub visited_at: i64,
    pub building_name: String,
    pub unit: i64,
    pub door_number: String,
    pub outcome: String,
    pub service_minutes: i64,
}

/// One activity a member attended, for a unit's report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberActivityRow {
    pub member_id: String,
    pub title: String,
    pub starts_at: i64,
    pub credit_minutes: i64,
}

const LAST_VISITS: &str = "SELECT v.party_member_id, MAX(v.visited_at)
     FROM visits v JOIN party_members m ON m.id = v.party_member_id
     WHERE m.community_id = $1 GROUP BY v.party_member_id";
// Visits and activities summed apart, then joined: a join of the two would
// count each visit once per activity.
const SERVICE: &str = "SELECT m.id AS member_id,
            CAST(COALESCE(v.visits, 0) AS BIGINT) AS visits,
            CAST(COALESCE(v.minutes, 0) AS BIGINT) AS visit_minutes,
            CAST(COALESCE(a.activities, 0) AS BIGINT) AS activities,
            CAST(COALESCE(a.minutes, 0) AS BIGINT) AS activity_minutes
     FROM party_members m
     LEFT JOIN (SELECT party_member_id, COUNT(*) AS visits, SUM(service_minutes) AS minutes
                FROM visits WHERE party_member_id IS NOT NULL AND visited_at >= $2 AND visited_at < $3
                GROUP BY party_member_id) v ON v.party_member_id = m.id
     LEFT JOIN (SELECT t.member_id, COUNT(*) AS activities, SUM(t.credit_minutes) AS minutes
                FROM activity_attendance t JOIN activities x ON x.id = t.activity_id
                WHERE t.member_id IS NOT NULL AND x.starts_at >= $2 AND x.starts_at < $3
                GROUP BY t.member_id) a ON a.member_id = m.id
     WHERE m.community_id = $1";
const MEMBER_VISITS: &str = "SELECT v.party_member_id AS member_id, v.visited_at, b.name AS building_name, h.unit,
            h.door_number, v.outcome, v.service_minutes
     FROM visits v JOIN party_members m ON m.id = v.party_member_id
     JOIN households h ON h.id = v.household_id JOIN buildings b ON b.id = h.building_id
     WHERE m.community_id = $1 AND ($2 = '' OR m.id = $2) AND v.visited_at >= $3 AND v.visited_at < $4
     ORDER BY v.party_member_id, v.visited_at";
const MEMBER_ACTIVITIES: &str = "SELECT t.member_id, x.title, x.starts_at, t.credit_minutes
     FROM activity_attendance t JOIN activities x ON x.id = t.activity_id
     JOIN party_members m ON m.id = t.member_id
     WHERE m.community_id = $1 AND x.starts_at >= $2 AND x.starts_at < $3
     ORDER BY t.member_id, x.starts_at";
const RULE: &str = "SELECT annual_minutes FROM party_rules WHERE id = 1";
const SET_RULE: &str = "UPDATE party_rules SET annual_minutes = $1, updated_at = $2 WHERE id = 1";
const SET_CADENCE: &str = "UPDATE party_cadences SET period_months = $2, updated_at = $3 WHERE rank = $1";
const MARK_VISIT: &str = "UPDATE visits SET party_member_id = $2, service_minutes = $3 WHERE id = $1";

impl Store {
    /// `(member id, newest visit time)` for the community's members who have
    /// visited at all.
    pub async fn party_last_visits(&self, community_id: &str) -> Result<Vec<(String, i64)>> {
        on_pool!(self.primary(), |c| sqlx::query_as(LAST_VISITS)
            .bind(community_id)
            .fetch_all(c)
            .await)
    }

    /// Every member of the community with their visits and activities in
    /// `[from, to)`, zero when none.
    pub async fn party_service(&self, community_id: &str, from: i64, to: i64) -> Result<Vec<ServiceRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(SERVICE)
            .bind(community_id)
            .bind(from)
            .bind(to)
            .fetch_all(c)
            .await)
    }

    /// Members' visits in `[from, to)`: one member's (`member_id`), or every
    /// member's of the community (empty), by member and time.
    pub async fn party_member_visits(
        &self,
        community_id: &str,
        member_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<MemberVisitRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(MEMBER_VISITS)
            .bind(community_id)
            .bind(member_id)
            .bind(from)
            .bind(to)
            .fetch_all(c)
            .await)
    }

    /// Activities the community's members attended, starting in `[from, to)`.
    pub async fn party_member_activities(
        &self,
        community_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<MemberActivityRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(MEMBER_ACTIVITIES)
            .bind(community_id)
            .bind(from)
            .bind(to)
            .fetch_all(c)
            .await)
    }

    /// The yearly service-hours rule, in minutes.
    pub async fn party_annual_minutes(&self) -> Result<i64> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(RULE).fetch_one(c).await)
    }
}

impl Tx {
    /// Names a visit just stored as `member_id`'s, worth `minutes` of service.
    pub async fn mark_party_visit(&mut self, visit_id: &str, member_id: &str, minutes: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(MARK_VISIT)
            .bind(visit_id)
            .bind(member_id)
            .bind(minutes)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_party_annual_minutes(&mut self, minutes: i64, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SET_RULE)
            .bind(minutes)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_party_cadence(&mut self, rank: &str, months: i64, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SET_CADENCE)
            .bind(rank)
            .bind(months)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
