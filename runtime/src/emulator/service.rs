//! The OData service proper: service document, `$metadata`, and the entity set verbs.

use axum::http::header;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use uuid::Uuid;

use super::builder::OrgUrl;
use super::error::{ApiError, CODE_UNEXPECTED};
use super::handlers::{answers_json, header_str, Req};
use super::list::{self, Plan};
use super::query::{self, Options};
use super::reply::Reply;
use super::routes::Route;
use super::{filter, json_in, metadata, Emulator};
use crate::cdms::wire::SERVICE_PATH;

/// Characters percent-encoded in the query options of `__next` links (quotes, commas, slashes
/// and parentheses stay readable, as in CRM's links).
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'=')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The absolute service root of this request (`http://host/Org/XRMServices/...svc`), and the
/// form used in `__metadata.uri` (lower-case service path when configured).
fn roots(emu: &Emulator, req: &Req<'_>) -> (String, String) {
    let cfg = &emu.inner.cfg;
    let org = match cfg.org_url {
        OrgUrl::Path => format!("/{}", cfg.org),
        OrgUrl::Root => String::new(),
    };
    let root = format!("{}{org}{SERVICE_PATH}", req.origin);
    let entry_root = if cfg.lowercase_entry_uris {
        format!("{}{org}{}", req.origin, SERVICE_PATH.to_lowercase())
    } else {
        root.clone()
    };
    (root, entry_root)
}

fn require_json(json: bool) -> Result<(), ApiError> {
    if json {
        Ok(())
    } else {
        Err(ApiError {
            status: 406,
            code: String::new(),
            message: "The emulated endpoint answers entity data in JSON only; send \
                      'Accept: application/json'."
                .into(),
        })
    }
}

fn require_json_body(req: &Req<'_>) -> Result<(), ApiError> {
    let ct = header_str(req.headers, "content-type").unwrap_or("");
    if ct.to_ascii_lowercase().contains("application/json") {
        Ok(())
    } else {
        Err(ApiError {
            status: 415,
            code: String::new(),
            message: format!(
                "Unsupported media type '{ct}'; send the body as JSON with \
                 'Content-Type: application/json'."
            ),
        })
    }
}

fn not_emulated(what: &str) -> ApiError {
    ApiError {
        status: 501,
        code: String::new(),
        message: format!("{what} is not supported by the emulator."),
    }
}

/// Serves a request addressed to the OData service.
pub(crate) fn serve(emu: &Emulator, req: &Req<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let json = answers_json(emu, req.headers);
    let only_get = || match req.method {
        "GET" => Ok(()),
        other => Err(ApiError::method_not_allowed(other)),
    };
    match req.route {
        Route::ServiceRoot => {
            only_get()?;
            let schemas = &emu.inner.schemas;
            Ok(if json {
                Reply::json(200, metadata::service_document_json(schemas), "1.0;")
            } else {
                let (root, _) = roots(emu, req);
                Reply::new(
                    200,
                    "application/atomsvc+xml;charset=utf-8",
                    metadata::service_document_atom(&root, schemas),
                )
            })
        }
        Route::Metadata => {
            only_get()?;
            Ok(Reply::new(
                200,
                "application/xml;charset=utf-8",
                metadata::edmx(&emu.inner.cfg.org, &emu.inner.schemas),
            ))
        }
        Route::Batch => Err(not_emulated("$batch")),
        Route::Links(_) => Err(not_emulated("$links")),
        Route::Count(_) => Err(ApiError::bad_request(
            "$count is not supported by the CRM 2011 OData endpoint (it has no server-side counts).",
        )),
        Route::UnknownSegment(name) => Err(ApiError::segment_not_found(name)),
        Route::UnknownPath(_, tail) => Err(ApiError::segment_not_found(tail)),
        Route::BadKey(_) => Err(ApiError::bad_request("Bad Request - Error in query syntax.")),
        Route::Collection(set) => {
            require_json(json)?;
            let opts = options(req)?;
            match req.method {
                "GET" => list(emu, req, *set, &opts),
                "POST" => create(emu, req, *set, body),
                other => Err(ApiError::method_not_allowed(other)),
            }
        }
        Route::Entity(set, id) => {
            let opts = options(req)?;
            match req.method {
                "GET" => {
                    require_json(json)?;
                    get_one(emu, req, *set, *id, &opts)
                }
                // 204 without a body: nothing to negotiate.
                "MERGE" | "PUT" => {
                    require_json_body(req)?;
                    let map = json_in::parse_body(body)?;
                    let cfg = &emu.inner.cfg;
                    let replace = req.method == "PUT";
                    emu.update_record(*set, *id, &map, replace, cfg.check_references, cfg.bump_on_update)?;
                    Ok(Reply::no_content())
                }
                "DELETE" => {
                    emu.delete_record(*set, *id)?;
                    Ok(Reply::no_content())
                }
                other => Err(ApiError::method_not_allowed(other)),
            }
        }
        Route::Property(set, id, name) => {
            require_json(json)?;
            match req.method {
                "GET" => property(emu, *set, *id, name),
                "PUT" | "MERGE" | "DELETE" => Err(not_emulated("Writing a single property")),
                other => Err(ApiError::method_not_allowed(other)),
            }
        }
        Route::Login | Route::Outside => Err(ApiError::segment_not_found("")),
    }
}

fn options(req: &Req<'_>) -> Result<Options, ApiError> {
    let pairs = query::decode_pairs(req.query)?;
    Options::parse(&pairs)
}

fn list(emu: &Emulator, req: &Req<'_>, set: usize, opts: &Options) -> Result<Reply, ApiError> {
    let cfg = &emu.inner.cfg;
    let schemas = &emu.inner.schemas;
    let schema = &schemas[set];
    let expanded = match opts.expand.as_deref() {
        Some(e) => query::expand(schema, e)?,
        None => Vec::new(),
    };
    let filter = opts
        .filter
        .as_deref()
        .map(|f| filter::compile_expanded(schemas, set, f, &expanded))
        .transpose()?;
    let order = opts
        .orderby
        .as_deref()
        .map(|o| query::orderby(schema, o))
        .transpose()?
        .unwrap_or_default();
    let shape = query::shape(schemas, set, opts.select.as_deref(), &expanded)?;
    let resume = opts
        .skiptoken
        .as_deref()
        .map(|t| query::decode_token(t, schema, &order))
        .transpose()?;
    let skip = opts.skip.unwrap_or(0);
    let window = skip.saturating_add(opts.top.unwrap_or(cfg.page_size));
    if skip > 0 && window > cfg.skip_limit {
        return Err(ApiError::platform(
            500,
            CODE_UNEXPECTED,
            format!(
                "The requested window ($skip {skip} + $top {}) goes beyond the {} records that \
                 can be read without a paging cookie. Follow the __next link ($skiptoken) for \
                 paging instead of $skip.",
                opts.top.unwrap_or(cfg.page_size),
                cfg.skip_limit
            ),
        ));
    }
    let via = filter.as_ref().and_then(|f| f.via);
    let (root, entry_root) = roots(emu, req);
    let store = emu.read_store();
    // A filter on an expanded entity reads another set: its generation is part of the key.
    let cache_id = format!(
        "{}\u{1}{}\u{1}{}\u{1}{}",
        opts.filter.as_deref().unwrap_or(""),
        opts.orderby.as_deref().unwrap_or(""),
        opts.expand.as_deref().unwrap_or(""),
        via.map_or(0, |(_, target)| store.sets[target].generation)
    );
    let plan = Plan {
        filter: filter.as_ref().map(|f| &f.pred),
        via,
        order: &order,
        top: opts.top,
        skip,
        resume: resume.as_ref(),
        page_size: cfg.page_size,
        cache_id: &cache_id,
    };
    let page = list::run(&store, set, &plan);
    let render = emu.render(&store);
    let records = &store.sets[set].records;
    let mut out = String::with_capacity(64 + page.keys.len() * 1024);
    out.push_str("{\"d\":{\"results\":[");
    for (n, key) in page.keys.iter().enumerate() {
        let Some(record) = records.get(key) else {
            continue;
        };
        if n > 0 {
            out.push(',');
        }
        render.entry_shaped(&mut out, set, record, Some(&entry_root), &shape);
    }
    out.push(']');
    let remaining = opts.top.map(|t| t.saturating_sub(page.keys.len()));
    let mut version = "1.0;";
    if let (true, Some(last), Some(first)) = (
        page.more && remaining != Some(0),
        page.keys.last(),
        page.keys.first(),
    ) {
        let vals = records
            .get(last)
            .map(|r| list::sort_vals(r, &order))
            .unwrap_or_default();
        let page_no = resume.as_ref().map_or(1, |r| r.page + 1);
        let token = query::encode_token(
            page_no,
            &schema.key_logical(),
            store.order.id(*last),
            store.order.id(*first),
            &vals,
        );
        let mut params: Vec<(&str, String)> = Vec::new();
        for (name, value) in [
            ("$filter", &opts.filter),
            ("$select", &opts.select),
            ("$expand", &opts.expand),
            ("$orderby", &opts.orderby),
        ] {
            if let Some(v) = value {
                params.push((name, v.clone()));
            }
        }
        if let Some(r) = remaining {
            params.push(("$top", r.to_string()));
        }
        params.push(("$skiptoken", token));
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY_VALUE)))
            .collect();
        let next = format!("{root}/{}?{}", schema.set, query.join("&"));
        out.push_str(",\"__next\":");
        super::json_out::write_str(&mut out, &next);
        version = "2.0;";
    }
    out.push_str("}}");
    Ok(Reply::json(200, out, version))
}

fn get_one(
    emu: &Emulator,
    req: &Req<'_>,
    set: usize,
    id: Uuid,
    opts: &Options,
) -> Result<Reply, ApiError> {
    if opts.has_collection_options() {
        return Err(ApiError::bad_request(
            "Query options $filter, $orderby, $skip, $skiptoken and $top cannot be applied to a \
             single entity.",
        ));
    }
    let schemas = &emu.inner.schemas;
    let schema = &schemas[set];
    let expanded = match opts.expand.as_deref() {
        Some(e) => query::expand(schema, e)?,
        None => Vec::new(),
    };
    let shape = query::shape(schemas, set, opts.select.as_deref(), &expanded)?;
    let (_, entry_root) = roots(emu, req);
    let store = emu.read_store();
    let record = store
        .get(set, id)
        .ok_or_else(|| ApiError::record_not_found(&schema.logical, id))?;
    let mut out = String::from("{\"d\":");
    emu.render(&store)
        .entry_shaped(&mut out, set, record, Some(&entry_root), &shape);
    out.push('}');
    Ok(Reply::json(200, out, "1.0;"))
}

fn create(emu: &Emulator, req: &Req<'_>, set: usize, body: &[u8]) -> Result<Reply, ApiError> {
    require_json_body(req)?;
    let map = json_in::parse_body(body)?;
    let id = emu.create_record(set, &map, emu.inner.cfg.check_references)?;
    let schema = &emu.inner.schemas[set];
    let (root, entry_root) = roots(emu, req);
    let store = emu.read_store();
    let mut out = String::from("{\"d\":");
    match store.get(set, id) {
        Some(record) => emu
            .render(&store)
            .entry(&mut out, set, record, Some(&entry_root), None),
        None => out.push_str("{}"),
    }
    out.push('}');
    Ok(Reply::json(201, out, "1.0;").with(
        header::LOCATION,
        format!("{root}/{}(guid'{id}')", schema.set),
    ))
}

fn property(emu: &Emulator, set: usize, id: Uuid, name: &str) -> Result<Reply, ApiError> {
    let schema = &emu.inner.schemas[set];
    let i = schema
        .prop(name)
        .ok_or_else(|| ApiError::segment_not_found(name))?;
    let store = emu.read_store();
    let record = store
        .get(set, id)
        .ok_or_else(|| ApiError::record_not_found(&schema.logical, id))?;
    let mut out = String::from("{\"d\":{");
    super::json_out::write_str(&mut out, name);
    out.push(':');
    if i == schema.version && !emu.inner.cfg.version_numbers {
        out.push_str("null");
    } else {
        emu.render(&store)
            .value(&mut out, schema.props[i].kind, &record[i]);
    }
    out.push_str("}}");
    Ok(Reply::json(200, out, "1.0;"))
}
