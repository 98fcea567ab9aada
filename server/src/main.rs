//! `server` runs Gridwalk; `server seed` puts the demo street into the
//! configured database if it is empty (once, from one place, in a deployment of
//! several instances); `server generate <households> <database>` writes a
//! benchmark data set of about that many households, `server generate-community
//! <households> <visit-multiplier> <database>` one community of them with a
//! year of visits (the coverage benchmarks), `server generate-requests
//! <households> <per-household> <database>` one with two years of requests
//! (the request benchmarks), `server generate-party <households> <members>
//! <database>` one with its party members at work for a year (the party
//! benchmarks). `<database>` is an SQLite file or a
//! `sqlite://` / `postgres://` URL of an empty database.
//! `server user …` adds, resets, disables and assigns accounts (the first
//! admin of a new install is made this way).
//! `server backup <path>` writes a checked copy of the configured SQLite
//! database while the server runs; `server restore <path>` checks a copy and
//! puts it in place of the database while no server runs (README, "Backups";
//! PostgreSQL is backed up with its own tools).
//! `server sweep [--dry-run]` removes (or lists) the photos and notice files
//! no record names that are older than `sweep_grace_hours`, as the server's
//! schedule does.

use gridwalk_server::config::Settings;
use gridwalk_server::{backup, demo, staff, startup, sweep, telemetry};

/// mimalloc rather than glibc's malloc: glibc kept each Argon2 check's 19 MiB
/// (and the big buffers of pull pages) in its per-thread arenas, so the
/// server's memory grew with every burst of logins and stayed there
/// (measured: 10 logins, +160 MiB); mimalloc gives freed pages back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    // Say what went wrong in a sentence, not as a Debug dump.
    if let Err(e) = run().await {
        eprintln!("gridwalk: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::load()?;
    telemetry::init(&settings.log_format);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["serve"] => {
            let server = startup::build(settings).await?;
            server.print_banner().await;
            server.run(shutdown_signal()).await?;
        }
        ["seed"] => {
            let store = gridwalk_server::db::connect(&settings).await?;
            // The notices' files go where the server will look for them.
            let rules = gridwalk_server::photos::check::Rules {
                max_bytes: settings.photo_max_bytes,
                max_pixels: settings.photo_max_pixels,
            };
            let photos = gridwalk_server::photos::PhotoStore::open(&settings.photo_store, rules).await?;
            if demo::seed(&store, &photos).await?.is_none() {
                println!("the database already holds data; nothing seeded");
            }
        }
        ["generate", households, database] => {
            let households = households.parse().map_err(|_| "households must be a number")?;
            generate(
                settings,
                database,
                demo::DemoSpec::with_households(households, app::state::now_ms()),
            )
            .await?;
        }
        ["generate-community", households, multiplier, database] => {
            let households = households.parse().map_err(|_| "households must be a number")?;
            let multiplier = multiplier
                .parse()
                .map_err(|_| "the visit multiplier must be a number")?;
            let spec = demo::DemoSpec::one_community(households, multiplier, app::state::now_ms());
            generate(settings, database, spec).await?;
        }
        ["generate-requests", households, per_household, database] => {
            let households = households.parse().map_err(|_| "households must be a number")?;
            let per_household: f64 = per_household
                .parse()
                .map_err(|_| "requests per household must be a number")?;
            // Two years of requests in one community, a year of visits.
            let spec =
                demo::DemoSpec::one_community(households, 1, app::state::now_ms()).with_requests(730, per_household);
            generate(settings, database, spec).await?;
        }
        ["generate-party", households, members, database] => {
            let households = households.parse().map_err(|_| "households must be a number")?;
            let members = members.parse().map_err(|_| "members must be a number")?;
            // One community with its members at work for a year.
            let spec = demo::DemoSpec::one_community(households, 1, app::state::now_ms()).with_party_service(members);
            generate(settings, database, spec).await?;
        }
        ["user", ref rest @ ..] => {
            let store = gridwalk_server::db::connect(&settings).await?;
            let said = staff::cli::run(&store, rest).await;
            store.close().await;
            println!("{}", said?);
        }
        ["backup", path] => println!("{}", backup::backup(&settings, path.as_ref()).await?),
        ["restore", path] => println!("{}", backup::restore(&settings, path.as_ref()).await?),
        ["sweep"] => println!("{}", sweep::command(&settings, false).await?),
        ["sweep", "--dry-run"] => println!("{}", sweep::command(&settings, true).await?),
        _ => {
            eprintln!(
                "usage: server [serve] | server seed | server generate <households> <database>\n       \
                 | server generate-community <households> <visit-multiplier> <database>\n       \
                 | server generate-requests <households> <requests-per-household> <database>\n       \
                 | server generate-party <households> <party-members> <database>\n       \
                 | server backup <path> | server restore <path> | server sweep [--dry-run]\n       \
                 | {}\n\
                 <database>: an SQLite file, or a sqlite:// or postgres:// URL\n\
                 backup, restore: the configured SQLite database (PostgreSQL: pg_dump, pg_restore)",
                staff::cli::USAGE
            );
            std::process::exit(2);
        }
    }
    Ok(())
}

/// Writes a generated data set into a new database.
async fn generate(
    mut settings: Settings,
    database: &str,
    spec: demo::DemoSpec,
) -> Result<(), Box<dyn std::error::Error>> {
    settings.database_url = if database.contains("://") {
        database.to_owned()
    } else {
        format!("sqlite://{database}")
    };
    let store = gridwalk_server::db::connect(&settings).await?;
    let counts = demo::generate(&store, &spec)
        .await?
        .ok_or("the database already holds data; generate into an empty one")?;
    // Closing checkpoints SQLite's WAL into the file: left behind (a gigabyte
    // for a city), the server's first write would copy it all while phones wait.
    store.close().await;
    println!("{counts:?} -> {database}");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
