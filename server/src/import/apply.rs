//! Writing a clean plan: territory and residents, staff accounts with their
//! one-time passwords, in-service party members, the audit row and the upload's removal, all in one
//! transaction: a failure anywhere leaves the database as it was.

use app::auth::ssr::Caller;
use app::error::ApiError;

use super::Table;
use super::plan::Plan;
use crate::passwords;

/// Applies the plan; answers the new accounts' one-time passwords, to show once.
pub async fn apply(
    caller: &Caller,
    upload_id: &str,
    table: &Table,
    plan: &Plan,
    community: Option<&str>,
    now: i64,
) -> Result<Vec<(String, String)>, ApiError> {
    // Hashing is slow (Argon2): done before the transaction, not inside it.
    let mut shown = Vec::new();
    let mut hashes = Vec::new();
    for change in plan.staff.iter().filter(|c| c.existing.is_none()) {
        let once = passwords::one_time()?;
        hashes.push(passwords::hash(once.clone()).await?);
        shown.push((change.username.clone(), once));
    }
    // A lead's import leaves what a worker has in other communities alone.
    let mut kept = Vec::new();
    for change in plan.staff.iter().filter_map(|c| c.existing.as_ref().map(|id| (c, id))) {
        let (_, id) = change;
        let mut grids = Vec::new();
        if let Some(own) = community {
            let current = caller.store.visible_grids(store::scope::Scope::Assigned(id)).await?;
            let elsewhere = caller.store.grids_of_communities(&current).await?;
            grids.extend(elsewhere.into_iter().filter(|(_, c)| c != own).map(|(g, _)| g));
        }
        kept.push(grids);
    }

    let mut tx = caller.store.begin().await?;
    // First, so that the same upload confirmed twice at once applies once:
    // the second waits on this row and finds it gone.
    if !tx.drop_upload(upload_id).await? {
        return Err(ApiError::NotFound("这份文件已经导入，或已过期：请重新上传".into()));
    }
    tx.apply_import(&plan.writes, now, &format!("import:{upload_id}"))
        .await?;
    let mut hashes = hashes.iter();
    let mut kept = kept.into_iter();
    for change in &plan.staff {
        let (id, grids) = match &change.existing {
            None => {
                let id = store::new_id();
                let hash = hashes.next().ok_or(ApiError::Internal)?;
                tx.insert_user(store::staff::NewUser {
                    id: &id,
                    username: &change.username,
                    display_name: &change.display_name,
                    role: change.role.as_str(),
                    community_id: change.community_id.as_deref(),
                    password_hash: hash,
                    must_change_password: true,
                    at: now,
                })
                .await?;
                (id, change.grids.clone())
            }
            Some(id) => {
                tx.set_display_name(id, &change.display_name).await?;
                let mut grids = change.grids.clone();
                grids.extend(kept.next().unwrap_or_default());
                (id.clone(), grids)
            }
        };
        if change.role == app::domain::Role::Worker {
            tx.set_user_grids(&id, &grids).await?;
        }
    }
    for change in &plan.party {
        let branch = tx.party_branch(&change.community_id, &change.branch).await?;
        let group = match change.group.as_str() {
            "" => None,
            group => Some(tx.party_group(&branch, group).await?),
        };
        let fields = store::party::MemberFields {
            name: &change.name,
            unit: &change.unit,
            unit_party_org: &change.unit_party_org,
            rank: change.rank.as_str(),
            work_phone: Some(&change.work_phone),
            branch_id: &branch,
            group_id: group.as_deref(),
            registered_on: &change.registered_on,
        };
        match &change.existing {
            Some(id) => tx.update_party_member(id, fields, now).await?,
            None => {
                tx.insert_party_member(store::party::NewMember {
                    id: &store::new_id(),
                    community_id: &change.community_id,
                    kind: "in_service",
                    resident_id: None,
                    fields,
                    at: now,
                })
                .await?
            }
        }
    }
    let what = format!("{}:{}", table.kind.as_str(), upload_id);
    tx.audit(caller.audit_entry(now, "create", "import", &what)).await?;
    tx.commit().await?;
    tracing::info!(kind = table.kind.as_str(), rows = table.rows.len(), "import applied");
    Ok(shown)
}
