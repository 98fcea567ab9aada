//! The one error type of the HTTP boundary, shared so the phone can show the
//! server's message as is.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    #[error("请先登录")]
    Unauthorized,
    /// Signed in, but the account cannot work now (disabled, or its
    /// one-time password not yet changed): the reason, as 401.
    #[error("{0}")]
    Account(String),
    #[error("没有权限查看此内容")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// The request clashes with what is there (a name already taken).
    #[error("{0}")]
    Conflict(String),
    #[error("尝试次数过多，请{0}秒后再试")]
    RateLimited(u64),
    #[error("提交的内容过大")]
    TooLarge,
    /// The database stayed locked past its wait (another writer, a backup),
    /// or every connection was taken, or the sync gate is full: 503 with
    /// Retry-After, in the body too (`retry_after`, which the phone honours).
    #[error("服务器繁忙，{0}秒后自动重试")]
    Busy(u64),
    #[error("服务器出错了，请稍后再试")]
    Internal,
    #[error("网络不可用，请检查信号后重试")]
    Network,
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthorized | ApiError::Account(_) => 401,
            ApiError::Forbidden => 403,
            ApiError::NotFound(_) => 404,
            ApiError::BadRequest(_) => 400,
            ApiError::Conflict(_) => 409,
            ApiError::RateLimited(_) => 429,
            ApiError::TooLarge => 413,
            ApiError::Internal => 500,
            ApiError::Busy(_) | ApiError::Network => 503,
        }
    }

    pub fn not_found() -> Self {
        ApiError::NotFound("没有找到，可能已被删除或不在您负责的网格".into())
    }

    pub fn bad_id() -> Self {
        ApiError::BadRequest("编号格式不正确".into())
    }
}

/// The JSON body of every error response: `{"error": code, "message": text}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Machine-readable code: bad_request 400, unauthorized or account 401
    /// (no session; an account disabled or that must change its password
    /// first), forbidden or cross_site 403, not_found 404, timeout 408,
    /// conflict 409, too_large 413, rate_limited 429, internal 500, busy 503;
    /// photo uploads add their own (unsupported_media_type, invalid_image,
    /// photo_quota, insufficient_storage).
    pub error: String,
    /// The message in Chinese, shown to the person as is (请先登录, 编号格式不正确).
    pub message: String,
}

impl From<&ApiError> for ErrorBody {
    fn from(err: &ApiError) -> Self {
        let error = match err {
            ApiError::Unauthorized => "unauthorized",
            ApiError::Account(_) => "account",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Conflict(_) => "conflict",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::TooLarge => "too_large",
            ApiError::Busy(_) => "busy",
            ApiError::Internal => "internal",
            ApiError::Network => "network",
        };
        ErrorBody {
            error: error.into(),
            message: err.to_string(),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{ApiError, ErrorBody};
    use axum::Json;
    use axum::response::{IntoResponse, Response};
    use http::StatusCode;

    impl IntoResponse for ApiError {
        fn into_response(self) -> Response {
            let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = ErrorBody::from(&self);
            let mut response = match self {
                ApiError::Busy(retry_after) => {
                    let body = BusyBody {
                        error: body.error,
                        message: body.message,
                        retry_after,
                    };
                    (status, Json(body)).into_response()
                }
                _ => (status, Json(body)).into_response(),
            };
            if let ApiError::RateLimited(secs) | ApiError::Busy(secs) = self
                && let Ok(value) = http::HeaderValue::from_str(&secs.to_string())
            {
                response.headers_mut().insert(http::header::RETRY_AFTER, value);
            }
            response
        }
    }

    /// A busy answer: the phone reads when to come back from the body.
    #[derive(serde::Serialize)]
    struct BusyBody {
        error: String,
        message: String,
        retry_after: u64,
    }

    /// How long a phone waits after the database was busy: it already
    /// waited out the engine's own timeout, so the lock is a long one.
    const BUSY_RETRY_AFTER_SECS: u64 = 2;

    /// The cause goes to the log (inside the request span); the person gets a
    /// generic message, never SQL. A database busy past its wait is not a
    /// fault of the server: the phone is told to come back, as when the
    /// sync gate is full.
    impl From<store::Error> for ApiError {
        fn from(err: store::Error) -> Self {
            if store::is_busy(&err) {
                tracing::warn!(error = %err, "database busy: asked to retry later");
                return ApiError::Busy(BUSY_RETRY_AFTER_SECS);
            }
            tracing::error!(error = %err, "database error");
            ApiError::Internal
        }
    }
}
