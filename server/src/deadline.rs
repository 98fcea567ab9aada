//! How long a request may take. Most get `request_timeout_secs` (30 s) from
//! arrival to answer, then 408. An upload route (a phone's photo, a notice
//! file, a spreadsheet) is marked by [`allow_slow_body`]: a 2 MB photo from a
//! phone on weak 3G (about 50 kB/s) takes 40 s to arrive, so its clock is
//! reset by every piece of body that comes in, and it is refused with 408
//! only when nothing arrived for `upload_idle_secs`, or when the body took
//! longer than [`UPLOAD_MAX`] in all (a client trickling a byte now and then
//! must not hold a connection for ever). Once the body is in, the handler
//! has the usual timeout again for its work.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use app::error::ErrorBody;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use tokio::time::Instant;

/// The longest an upload's body may take to arrive, however steadily.
pub const UPLOAD_MAX: Duration = Duration::from_secs(15 * 60);

/// The two limits, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub request: Duration,
    pub upload_idle: Duration,
}

/// One request's clock, shared by the middleware, the body and the marker.
struct Clock {
    start: Instant,
    limits: Limits,
    slow_body_allowed: AtomicBool,
    /// Milliseconds after `start` of the latest piece of body (or of its end).
    last_progress_ms: AtomicU64,
    body_done: AtomicBool,
}

impl Clock {
    fn progress(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_progress_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// When the request is out of time, as things stand now.
    fn due(&self) -> Instant {
        let normal = self.start + self.limits.request;
        if !self.slow_body_allowed.load(Ordering::Relaxed) {
            return normal;
        }
        let last = self.start + Duration::from_millis(self.last_progress_ms.load(Ordering::Relaxed));
        let allowed = if self.body_done.load(Ordering::Relaxed) {
            last + self.limits.request
        } else {
            (last + self.limits.upload_idle).min(self.start + UPLOAD_MAX)
        };
        // An upload never has less time than any other request.
        allowed.max(normal)
    }

    fn stalled(&self) -> bool {
        self.slow_body_allowed.load(Ordering::Relaxed) && !self.body_done.load(Ordering::Relaxed)
    }
}

/// The request body, telling the clock when each piece arrives.
struct Timed {
    inner: Body,
    clock: Arc<Clock>,
}

impl http_body::Body for Timed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(_))) => self.clock.progress(),
            Poll::Ready(None) => {
                self.clock.progress();
                self.clock.body_done.store(true, Ordering::Relaxed);
            }
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The middleware around every route: runs the request until it answers or
/// its clock runs out (408).
pub async fn enforce(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let clock = Arc::new(Clock {
        start: Instant::now(),
        limits,
        slow_body_allowed: AtomicBool::new(false),
        last_progress_ms: AtomicU64::new(0),
        body_done: AtomicBool::new(false),
    });
    let mut request = request.map(|inner| {
        Body::new(Timed {
            inner,
            clock: clock.clone(),
        })
    });
    request.extensions_mut().insert(SlowBody(clock.clone()));
    let answer = next.run(request);
    tokio::pin!(answer);
    loop {
        let due = clock.due();
        tokio::select! {
            response = &mut answer => return response,
            () = tokio::time::sleep_until(due) => {
                // The clock may have moved on while this slept.
                if clock.due() <= Instant::now() {
                    return timed_out(&clock);
                }
            }
        }
    }
}

fn timed_out(clock: &Clock) -> Response {
    let message = if clock.stalled() {
        format!(
            "上传中断：{}秒没有收到数据（信号不好）。照片留在手机上，稍后会自动再传",
            clock.limits.upload_idle.as_secs()
        )
    } else {
        "服务器处理超时，请稍后再试".to_owned()
    };
    tracing::info!(stalled = clock.stalled(), "request timed out");
    let body = ErrorBody {
        error: "timeout".into(),
        message,
    };
    (StatusCode::REQUEST_TIMEOUT, Json(body)).into_response()
}

/// The clock's handle in a request's extensions.
#[derive(Clone)]
struct SlowBody(Arc<Clock>);

/// Marks an upload route (a layer on the route, so it runs before the
/// handler reads the body): its body may take as long as it keeps coming.
pub async fn allow_slow_body(request: Request, next: Next) -> Response {
    if let Some(SlowBody(clock)) = request.extensions().get::<SlowBody>() {
        clock.slow_body_allowed.store(true, Ordering::Relaxed);
    }
    next.run(request).await
}
