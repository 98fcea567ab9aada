//! The sign-in page. A plain HTML form posted to the server, so it works before
//! the WASM has loaded on a slow phone; the server answers with a redirect.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The message for `/login?error=…`, set by the server's redirect.
fn error_message(code: &str) -> Option<&'static str> {
    match code {
        "invalid" => Some("用户名或密码不正确"),
        "limited" => Some("登录尝试过于频繁，请15分钟后再试"),
        "expired" => Some("登录已过期，请重新登录"),
        "disabled" => Some("此账号已停用，请联系网格长"),
        "" => None,
        _ => Some("登录失败，请重试"),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error").and_then(|code| error_message(&code));
    view! {
        <main class="login">
            <div class="login-brand">
                <img src="/icons/icon.svg" alt="" width="64" height="64"/>
                <h1>"网格通"</h1>
                <p class="muted">"Gridwalk · 社区网格入户走访"</p>
            </div>
            <form class="card login-form" method="post" action="/login">
                {move || error().map(|msg| view! { <p class="form-error" role="alert">{msg}</p> })}
                <label>
                    <span>"用户名"</span>
                    <input name="username" autocomplete="username" required maxlength="64"
                        autocapitalize="none" spellcheck="false"/>
                </label>
                <label>
                    <span>"密码"</span>
                    <input name="password" type="password" autocomplete="current-password" required maxlength="128"/>
                </label>
                <button type="submit" class="btn btn-block">"登录"</button>
            </form>
            <p class="muted small center">"居民查看社区公开信息无需登录"</p>
        </main>
    }
}
