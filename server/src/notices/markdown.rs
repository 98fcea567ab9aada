//! Notice bodies: a safe Markdown subset rendered to HTML. Raw HTML in the
//! source is shown as text, never passed through; links keep only http(s),
//! mailto and site-relative targets; images are not allowed in the body (they
//! come as attachments). What comes out can only contain the tags
//! pulldown-cmark writes for the allowed constructs.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, html};

/// Longest body accepted, in characters (a quarterly finance table fits).
pub const MAX_BODY_CHARS: usize = 20_000;

fn safe_url(url: &str) -> bool {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    (url.starts_with('/') && !url.starts_with("//"))
        || lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
}

pub fn to_html(source: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(source, options).filter_map(|event| match event {
        // Raw HTML becomes visible text: escaped on output.
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest_url = if safe_url(&dest_url) {
                dest_url
            } else {
                CowStr::from("#")
            };
            Some(Event::Start(Tag::Link {
                link_type: if link_type == LinkType::Email {
                    link_type
                } else {
                    LinkType::Inline
                },
                dest_url,
                title,
                id,
            }))
        }
        // An image shows as its alt text (the text events between these).
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        other => Some(other),
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// The first characters of the body as plain text, for lists and the feed.
pub fn summary(source: &str, chars: usize) -> String {
    // Parsed as `to_html` parses it: a table is its cells' text, not its pipes.
    let text: String = Parser::new_ext(source, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
        .filter_map(|event| match event {
            Event::Text(t) | Event::Code(t) => Some(t.to_string()),
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::TableCell) => Some(" ".into()),
            _ => None,
        })
        .collect();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > chars {
        format!("{}…", text.chars().take(chars).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_survives() {
        let html = to_html(
            "## 第三季度财务公开\n\n**收入**合计 1,200 元\n\n- 物业费\n- 停车费\n\n| 项目 | 金额 |\n|---|---|\n| 绿化 | 300 |",
        );
        assert!(html.contains("<h2>第三季度财务公开</h2>"), "{html}");
        assert!(html.contains("<strong>收入</strong>"));
        assert!(html.contains("<li>物业费</li>"));
        assert!(html.contains("<table>"));
    }

    #[test]
    fn hostile_payloads_are_inert() {
        for payload in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[点我](javascript:alert(1))",
            "[点我](JaVaScRiPt:alert(1))",
            "[x](//evil.example/)",
            "![x](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        ] {
            let html = to_html(payload);
            assert_only_safe_markup(&html, payload);
        }
        assert!(to_html("<b>x</b>").contains("&lt;b&gt;"));
        assert!(to_html("[社区](/n/abc)").contains("href=\"/n/abc\""));
    }

    /// Every literal `<` in the output opens a tag (text is escaped), so
    /// checking each tag checks everything a browser would act on.
    fn assert_only_safe_markup(html: &str, payload: &str) {
        const ALLOWED: [&str; 22] = [
            "p",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "strong",
            "em",
            "del",
            "ul",
            "ol",
            "li",
            "a",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "code",
            "blockquote",
        ];
        for tag in html.split('<').skip(1) {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            let name = tag.trim_start_matches('/').split([' ', '/']).next().unwrap_or_default();
            assert!(
                ALLOWED.contains(&name) || name == "br" || name == "hr",
                "{payload} -> <{tag}>"
            );
            if let Some(attrs) = tag.strip_prefix("a ") {
                let href = attrs.strip_prefix("href=\"").unwrap_or_default();
                assert!(
                    href.starts_with('#')
                        || href.starts_with("https://")
                        || href.starts_with("http://")
                        || href.starts_with("mailto:")
                        || (href.starts_with('/') && !href.starts_with("//")),
                    "{payload} -> <{tag}>"
                );
                assert!(!attrs.contains(" on"), "{payload} -> <{tag}>");
            } else {
                assert!(!tag.contains('='), "{payload} -> <{tag}>");
            }
        }
    }

    #[test]
    fn summaries_are_plain_text() {
        assert_eq!(summary("## 标题\n\n**一**二三四五六", 5), "标题 一二…");
        assert_eq!(
            summary("收支如下：\n\n| 项目 | 金额 |\n|---|---:|\n| 绿化 | 300 |", 40),
            "收支如下： 项目 金额 绿化 300"
        );
    }
}
