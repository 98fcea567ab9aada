//! `server user …`: the staff operations for an operator at a shell, above
//! all the first admin of a new install (no account exists until one is made
//! here: there is no default password).

use app::domain::Role;
use app::error::ApiError;
use store::Store;

use super::users::{self, Actor, NewAccount};

pub const USAGE: &str = "server user add [--role admin|lead|worker] [--community <id>] [--password-stdin] <name> [<display name>]\n       \
     | server user reset <name> | server user disable <name> | server user enable <name>\n       \
     | server user grids <name> <grid id>… | server user list";

/// Runs one `server user` command; what to print, or why not.
pub async fn run(store: &Store, args: &[&str]) -> Result<String, String> {
    let message = |e: ApiError| e.to_string();
    match args {
        ["add", rest @ ..] => add(store, rest).await,
        ["list"] => {
            let rows = store.staff(None).await.map_err(|e| e.to_string())?;
            Ok(rows
                .iter()
                .map(|u| {
                    let state = if u.disabled_at.is_some() { " (停用)" } else { "" };
                    format!("{:<16} {:<6} {} {}{state}", u.username, u.role, u.display_name, u.grids)
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
        [action @ ("reset" | "disable" | "enable"), name] => {
            let user = member(store, name).await?;
            let actor = Actor {
                user_id: &user.id,
                route: "cli",
            };
            match *action {
                "reset" => {
                    let once = users::reset(store, &user, actor).await.map_err(message)?;
                    Ok(format!("{} 的新初始密码（只显示这一次）: {once}", user.username))
                }
                "disable" => {
                    users::set_disabled(store, &user, true, actor).await.map_err(message)?;
                    Ok(format!("{} 已停用", user.username))
                }
                _ => {
                    users::set_disabled(store, &user, false, actor).await.map_err(message)?;
                    Ok(format!("{} 已启用", user.username))
                }
            }
        }
        ["grids", name, grids @ ..] => {
            let user = member(store, name).await?;
            let ids: Vec<String> = grids.iter().map(|g| (*g).to_owned()).collect();
            let actor = Actor {
                user_id: &user.id,
                route: "cli",
            };
            let assigned = users::set_grids(store, &user, &ids, actor).await.map_err(message)?;
            let names: Vec<String> = assigned.into_iter().map(|g| g.name).collect();
            Ok(format!("{} 负责：{}", user.username, names.join("、")))
        }
        _ => Err(format!("usage: {USAGE}")),
    }
}

async fn member(store: &Store, name: &str) -> Result<store::staff::StaffRow, String> {
    store
        .staff_member(&name.to_lowercase())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("没有用户 {name}"))
}

async fn add(store: &Store, args: &[&str]) -> Result<String, String> {
    let mut role = Role::Admin;
    let mut community = None;
    let mut typed = false;
    let mut names = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "--role" => {
                let value = rest.next().ok_or("--role needs admin, lead or worker")?;
                role = Role::parse_staff(value).ok_or("--role needs admin, lead or worker")?;
            }
            "--community" => community = Some((*rest.next().ok_or("--community needs an id")?).to_owned()),
            "--password-stdin" => typed = true,
            name => names.push(name),
        }
    }
    let (username, display_name) = match names[..] {
        [username] => (username, username),
        [username, display] => (username, display),
        _ => return Err(format!("usage: {USAGE}")),
    };
    let password = if typed {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| e.to_string())?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let account = NewAccount {
        username: username.to_owned(),
        display_name: display_name.to_owned(),
        role,
        community_id: community,
        password,
        party_member: None,
    };
    let shown = users::create(store, account, None).await.map_err(|e| e.to_string())?;
    Ok(match shown {
        Some(once) => format!(
            "已创建 {} ({})。初始密码（只显示这一次，首次登录后须修改）: {once}",
            username.to_lowercase(),
            role.label()
        ),
        None => format!("已创建 {} ({})", username.to_lowercase(), role.label()),
    })
}
