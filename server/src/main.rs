//! `server` runs Gridwalk; `server generate <households> <sqlite-file>` writes a
//! benchmark data set of about that many households.

use gridwalk_server::config::Settings;
use gridwalk_server::{demo, startup, telemetry};

#[tokio::main]
async fn main() {
    // Say what went wrong in a sentence, not as a Debug dump.
    if let Err(e) = run().await {
        eprintln!("gridwalk: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = Settings::load()?;
    telemetry::init(&settings.log_format);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["serve"] => {
            let server = startup::build(settings).await?;
            server.print_banner().await;
            server.run(shutdown_signal()).await?;
        }
        ["generate", households, file] => {
            let households: usize = households.parse().map_err(|_| "households must be a number")?;
            settings.database_url = format!("sqlite://{file}");
            let pool = gridwalk_server::db::connect(&settings).await?;
            let spec = demo::DemoSpec::with_households(households, app::state::now_ms());
            let counts = demo::generate(&pool, &spec).await?;
            println!("{counts:?} -> {file}");
        }
        _ => {
            eprintln!("usage: server [serve] | server generate <households> <sqlite-file>");
            std::process::exit(2);
        }
    }
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
