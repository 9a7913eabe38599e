//! `search`: seeds a temp database with N messages (default 1,000,000) — realistic chat
//! bodies drawn from a Zipf-distributed vocabulary, 20 channels, 51 authors, thread
//! replies, a few DMs, agent rows and deleted rows — bulk-inserted with raw SQL in 50k-row
//! transactions on a database opened and migrated by `Store` (so the FTS triggers index
//! every row). Then it times five query shapes through the `Chat::search` use case and
//! prints p50/p95/p99 per shape with how many messages each query matched.
//!
//! Usage: `cargo run --release -p clickclack-bench -- search [--messages N] [--runs N] [--keep]`
//! (`BENCH_DIR` chooses where the temp database lives).

use crate::stats::Outcome;
use clickclack_runtime::chat::{parse_query, Actor, Chat, ChatConfig, SearchQuery};
use clickclack_runtime::store::{DbLocation, Store, StoreOptions};
use libsql::Value;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const BATCH: usize = 50_000;
const CHANNELS: usize = 20;
const USERS: usize = 50;
const DMS: usize = 10;
const VOCABULARY: usize = 6_000;
/// The most frequent words (articles, pronouns, …) are not what people search for.
const STOPWORD_RANKS: usize = 50;

/// Common chat words, roughly by frequency; the vocabulary continues with generated words.
const WORDS: &str = "the to and a i you it is of that in we for this on be have with
    just so not can do are but at it's my if will me what get was all they about up
    there out one think yeah know like now no need would going time ok how good then
    should thanks work see also when make more could here let some new want check today
    back by our from which because any still test really sure issue looking right yes
    fix an build release deploy update change looks try use people week maybe did great
    has code call tomorrow meeting data something first team other morning those been
    pr review done error server question users problem over help after last thing
    again into thought next version feature branch merge please already working sorry
    nice cool well team's last night customer service api endpoint config database
    migration schema query index search cache latency timeout retry queue worker job
    pipeline staging production rollback hotfix incident alert dashboard metrics logs
    trace bug crash memory cpu disk network request response token session login auth
    password email invite channel thread message reaction upload file image link doc
    design spec draft plan roadmap sprint ticket estimate priority blocker owner lead
    manager client vendor contract invoice budget cost revenue report quarter launch
    demo slides notes summary agenda standup retro sync lunch coffee weekend holiday
    vacation travel flight hotel office remote home laptop monitor keyboard mouse phone
    battery charger cable printer kitchen pizza birthday cake party music movie game
    football weather rain snow sunny cold hot windy storm river mountain beach forest
    garden flower tree bird dog cat horse lobster crab fish whale dolphin shark octopus
    squid turtle frog snake lizard spider bee butterfly apple banana orange grape lemon
    cherry peach pear plum melon berry tomato potato carrot onion garlic pepper salt
    sugar bread butter cheese milk cream yogurt egg chicken beef pork lamb rice pasta
    noodle soup salad sandwich burger taco sushi curry steak waffle pancake cookie candy
    chocolate vanilla caramel honey jam tea juice water wine beer whiskey soda friday
    monday tuesday wednesday thursday saturday sunday january february march april june
    july august september october november december spring summer autumn winter red blue
    green yellow purple black white gray brown pink gold silver bronze copper iron steel
    wood glass paper plastic rubber leather cotton wool silk velvet denim linen canvas";

/// Syllables for generated words (varied starts, so prefixes spread like real words do).
const SYLLABLES: [&str; 48] = [
    "ka", "lo", "mi", "ren", "tor", "bel", "vin", "sa", "po", "dri", "mar", "tek", "lu", "zan",
    "qua", "fi", "gor", "nel", "pra", "sto", "wex", "jun", "ha", "bri", "cle", "dun", "ep", "ost",
    "gla", "hum", "ix", "jor", "kle", "mun", "nor", "ob", "pel", "rus", "sim", "tal", "ul", "ve",
    "wil", "yor", "zed", "ab", "cor", "den",
];

/// splitmix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

struct Vocabulary {
    words: Vec<String>,
    /// Cumulative Zipf weights (s = 1).
    cumulative: Vec<f64>,
    rank: HashMap<String, usize>,
}

impl Vocabulary {
    fn new() -> Self {
        let mut words: Vec<String> = Vec::new();
        for w in WORDS.split_whitespace() {
            if !words.iter().any(|x| x == w) {
                words.push(w.to_string());
            }
        }
        let mut generated = Vec::new();
        for a in SYLLABLES {
            for b in SYLLABLES {
                generated.push(format!("{a}{b}"));
                for c in SYLLABLES {
                    generated.push(format!("{a}{b}{c}"));
                }
            }
        }
        let mut rng = Rng(7);
        while words.len() < VOCABULARY {
            let w = generated.swap_remove(rng.below(generated.len()));
            if !words.contains(&w) {
                words.push(w);
            }
        }
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|r| {
                total += 1.0 / (r + 1) as f64;
                total
            })
            .collect();
        let rank = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i))
            .collect();
        Self {
            words,
            cumulative,
            rank,
        }
    }

    /// A word by corpus frequency.
    fn zipf(&mut self, rng: &mut Rng) -> &str {
        let total = *self.cumulative.last().unwrap();
        let u = rng.unit() * total;
        let i = self.cumulative.partition_point(|&c| c < u);
        &self.words[i.min(self.words.len() - 1)]
    }

    /// A search word: uniform over the vocabulary minus the stopword head.
    fn query_word(&self, rng: &mut Rng, min_len: usize) -> &str {
        loop {
            let w = &self.words[STOPWORD_RANKS + rng.below(self.words.len() - STOPWORD_RANKS)];
            if w.len() >= min_len && w.chars().all(|c| c.is_ascii_alphabetic()) {
                return w;
            }
        }
    }

    fn body(&mut self, rng: &mut Rng, serial: usize) -> String {
        let n = 3 + rng.below(10) + rng.below(10) + rng.below(10);
        let mut words: Vec<String> = (0..n).map(|_| self.zipf(rng).to_string()).collect();
        if let Some(first) = words.first_mut() {
            let mut c = first.chars();
            if let Some(h) = c.next() {
                *first = h.to_uppercase().chain(c).collect();
            }
        }
        if rng.chance(0.03) {
            words.push(format!("https://example.com/docs/{serial}"));
        }
        let mut body = words.join(" ");
        if rng.chance(0.3) {
            body.push(if rng.chance(0.5) { '?' } else { '.' });
        }
        body
    }
}

/// `2026-05-08T12:00:00.123Z` from Unix milliseconds (trailing zeros trimmed).
fn rfc3339(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let frac = if ms == 0 {
        String::new()
    } else {
        format!(".{ms:03}").trim_end_matches('0').to_string()
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

fn flag(args: &[String], name: &str) -> Option<usize> {
    args.windows(2)
        .find(|w| w[0] == name)
        .and_then(|w| w[1].replace('_', "").parse().ok())
}

struct World {
    workspace_id: String,
    owner: String,
    users: Vec<String>,
    channels: Vec<(String, String)>,
    dms: Vec<(String, [String; 2])>,
}

/// Users, channels and DMs through the use cases, so they look like real ones.
async fn setup(chat: &Chat) -> World {
    let boot = chat
        .bootstrap("Bench Owner", "owner@bench.example")
        .await
        .unwrap();
    let owner = Actor::new(boot.user.clone());
    let workspace_id = boot.workspace.unwrap().id;
    let general = boot.channel.unwrap();
    let mut channels = vec![(general.id, general.name)];
    for i in 1..CHANNELS {
        let (c, _) = chat
            .create_channel(&owner, &workspace_id, &format!("team-{i}"), "public")
            .await
            .unwrap();
        channels.push((c.id, c.name));
    }
    let mut users = vec![boot.user.id.clone()];
    chat.update_profile(&owner, None, Some("owner"), None)
        .await
        .unwrap();
    for i in 0..USERS {
        let u = chat
            .admin_create_user(
                &format!("User {i}"),
                &format!("user{i}@bench.example"),
                Some(&workspace_id),
            )
            .await
            .unwrap();
        let handle = format!("user{i}");
        chat.update_profile(&Actor::new(u.clone()), None, Some(&handle), None)
            .await
            .unwrap();
        users.push(u.id);
    }
    let mut dms = Vec::new();
    for other in users.iter().skip(1).take(DMS) {
        let c = chat
            .create_direct_conversation(&owner, &workspace_id, std::slice::from_ref(other))
            .await
            .unwrap()
            .conversation;
        dms.push((c.id, [users[0].clone(), other.clone()]));
    }
    World {
        workspace_id,
        owner: users[0].clone(),
        users,
        channels,
        dms,
    }
}

async fn exec(conn: &libsql::Connection, sql: &str) {
    let mut rows = conn.query(sql, ()).await.unwrap();
    while rows.next().await.unwrap().is_some() {}
}

/// Bulk-inserts `total` messages with raw SQL (the FTS triggers fire per row).
async fn seed(path: &Path, world: &World, vocab: &mut Vocabulary, total: usize) {
    let db = libsql::Builder::new_local(path).build().await.unwrap();
    let conn = db.connect().unwrap();
    for pragma in [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=OFF",
        "PRAGMA foreign_keys=OFF",
        "PRAGMA cache_size=-262144",
    ] {
        exec(&conn, pragma).await;
    }
    let insert =
        "INSERT INTO messages (id, workspace_id, channel_id, direct_conversation_id, author_id,
            parent_message_id, thread_root_id, channel_seq, thread_seq, body, body_format, kind,
            created_at, deleted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'markdown', ?11, ?12, ?13)";
    let mut rng = Rng(42);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let span_ms: i64 = 365 * 86_400_000;
    let start_ms = now_ms - span_ms;
    let mut channel_seq = vec![0i64; world.channels.len()];
    let mut dm_seq = vec![0i64; world.dms.len()];
    // Recent roots per channel: (id, replies so far).
    let mut recent: Vec<Vec<(String, i64)>> = vec![Vec::new(); world.channels.len()];
    let mut thread_state: HashMap<String, (i64, String)> = HashMap::new();
    let started = Instant::now();
    let mut done = 0;
    while done < total {
        let n = BATCH.min(total - done);
        conn.execute("BEGIN", ()).await.unwrap();
        let stmt = conn.prepare(insert).await.unwrap();
        for k in 0..n {
            let serial = done + k;
            let id = clickclack_runtime::ids::new_id("msg");
            let created =
                rfc3339(start_ms + (span_ms as f64 * serial as f64 / total as f64) as i64);
            let deleted = rng.chance(0.003);
            let body = if deleted {
                String::new()
            } else {
                vocab.body(&mut rng, serial)
            };
            let kind = if rng.chance(0.005) {
                "agent_commentary"
            } else {
                "message"
            };
            let mut channel_id = Value::Null;
            let mut dm_id = Value::Null;
            let mut parent = Value::Null;
            let mut root = id.clone();
            let mut seq = Value::Null;
            let mut thread_seq = Value::Null;
            let author;
            if rng.chance(0.02) {
                let d = rng.below(world.dms.len());
                dm_seq[d] += 1;
                dm_id = Value::from(world.dms[d].0.clone());
                seq = Value::from(dm_seq[d]);
                author = world.dms[d].1[rng.below(2)].clone();
            } else {
                // Busier channels first.
                let c = (rng.below(world.channels.len()) * rng.below(world.channels.len()))
                    / world.channels.len();
                channel_id = Value::from(world.channels[c].0.clone());
                author = world.users[rng.below(world.users.len())].clone();
                if !recent[c].is_empty() && rng.chance(0.12) {
                    let pick = rng.below(recent[c].len());
                    let (root_id, replies) = &mut recent[c][pick];
                    *replies += 1;
                    parent = Value::from(root_id.clone());
                    root = root_id.clone();
                    thread_seq = Value::from(*replies);
                    thread_state.insert(root_id.clone(), (*replies, created.clone()));
                } else {
                    channel_seq[c] += 1;
                    seq = Value::from(channel_seq[c]);
                    recent[c].push((id.clone(), 0));
                    if recent[c].len() > 30 {
                        recent[c].remove(0);
                    }
                }
            }
            stmt.execute(vec![
                Value::from(id),
                Value::from(world.workspace_id.clone()),
                channel_id,
                dm_id,
                Value::from(author),
                parent,
                Value::from(root),
                seq,
                thread_seq,
                Value::from(body),
                Value::from(kind),
                Value::from(created.clone()),
                if deleted {
                    Value::from(created)
                } else {
                    Value::Null
                },
            ])
            .await
            .unwrap();
            stmt.reset();
        }
        drop(stmt);
        conn.execute("COMMIT", ()).await.unwrap();
        done += n;
        eprintln!(
            "  seeded {done}/{total} messages ({:.0}/s)",
            done as f64 / started.elapsed().as_secs_f64()
        );
    }
    conn.execute("BEGIN", ()).await.unwrap();
    let stmt = conn
        .prepare(
            "INSERT OR REPLACE INTO thread_state (root_message_id, reply_count, last_reply_at, last_reply_author_ids_json)
             VALUES (?1, ?2, ?3, '[]')",
        )
        .await
        .unwrap();
    for (root, (count, at)) in &thread_state {
        stmt.execute((root.as_str(), *count, at.as_str()))
            .await
            .unwrap();
        stmt.reset();
    }
    drop(stmt);
    conn.execute("COMMIT", ()).await.unwrap();
    exec(&conn, "PRAGMA wal_checkpoint(TRUNCATE)").await;
}

struct Shape {
    name: &'static str,
    queries: Vec<String>,
}

/// A random live channel message: body, author handle, channel name.
struct Sample {
    body: String,
    handle: String,
    channel: String,
}

/// Random live channel messages (for words that occur together, with their author and
/// channel).
async fn sample_messages(store: &Store, total: usize, n: usize, rng: &mut Rng) -> Vec<Sample> {
    let conn = store.connect().unwrap();
    let mut out = Vec::new();
    while out.len() < n {
        let rowid = 1 + rng.below(total) as i64;
        let mut rows = conn
            .query(
                "SELECT m.body, u.handle, c.name FROM messages m JOIN users u ON u.id = m.author_id
                 JOIN channels c ON c.id = m.channel_id
                 WHERE m.rowid = ?1 AND m.deleted_at IS NULL AND m.kind = 'message'",
                [rowid],
            )
            .await
            .unwrap();
        if let Some(row) = rows.next().await.unwrap() {
            let body: String = row.get(0).unwrap();
            if !body.is_empty() {
                out.push(Sample {
                    body,
                    handle: row.get(1).unwrap(),
                    channel: row.get(2).unwrap(),
                });
            }
        }
    }
    out
}

/// The vocabulary words of a body, lowercase, in order.
fn body_words(vocab: &Vocabulary, body: &str) -> Vec<String> {
    body.split_whitespace()
        .map(|w| w.trim_end_matches(['.', '?']).to_lowercase())
        .filter(|w| vocab.rank.contains_key(w))
        .collect()
}

fn searchable(vocab: &Vocabulary, word: &str) -> bool {
    vocab
        .rank
        .get(&word.to_lowercase())
        .is_some_and(|&r| r >= STOPWORD_RANKS)
}

fn shapes(vocab: &Vocabulary, samples: &[Sample], runs: usize, rng: &mut Rng) -> Vec<Shape> {
    let single = (0..runs)
        .map(|_| vocab.query_word(rng, 3).to_string())
        .collect();
    let mut two = Vec::new();
    let mut phrase = Vec::new();
    let mut i = 0;
    while two.len() < runs || phrase.len() < runs {
        let words = body_words(vocab, &samples[i % samples.len()].body);
        i += 1;
        let picks: Vec<&String> = words.iter().filter(|w| searchable(vocab, w)).collect();
        if two.len() < runs && picks.len() >= 2 {
            let a = rng.below(picks.len());
            let b = (a + 1 + rng.below(picks.len() - 1)) % picks.len();
            two.push(format!("{} {}", picks[a], picks[b]));
        }
        if phrase.len() < runs && words.len() >= 2 {
            let at = rng.below(words.len() - 1);
            if searchable(vocab, &words[at]) || searchable(vocab, &words[at + 1]) {
                phrase.push(format!("\"{} {}\"", words[at], words[at + 1]));
            }
        }
    }
    let prefix = (0..runs)
        .map(|_| format!("{}*", &vocab.query_word(rng, 6)[..4]))
        .collect();
    // A word of a real message with its author and channel, so the filters keep hits.
    let mut filtered = Vec::new();
    while filtered.len() < runs {
        let sample = &samples[i % samples.len()];
        i += 1;
        let words = body_words(vocab, &sample.body);
        let picks: Vec<&String> = words.iter().filter(|w| searchable(vocab, w)).collect();
        if !picks.is_empty() {
            filtered.push(format!(
                "{} from:@{} in:#{}",
                picks[rng.below(picks.len())],
                sample.handle,
                sample.channel
            ));
        }
    }
    vec![
        Shape {
            name: "single word",
            queries: single,
        },
        Shape {
            name: "two words",
            queries: two,
        },
        Shape {
            name: "phrase",
            queries: phrase,
        },
        Shape {
            name: "prefix (4 letters + *)",
            queries: prefix,
        },
        Shape {
            name: "word + from: + in:",
            queries: filtered,
        },
    ]
}

/// How many live channel messages the FTS part of `q` matches (not timed).
async fn match_count(store: &Store, workspace_id: &str, q: &str) -> i64 {
    let Some(expr) = parse_query(q).match_expr() else {
        return 0;
    };
    let conn = store.connect().unwrap();
    let mut rows = conn
        .query(
            "SELECT COUNT(*) FROM messages_fts CROSS JOIN messages m ON m.rowid = messages_fts.rowid
             WHERE messages_fts MATCH ?1 AND m.workspace_id = ?2 AND m.channel_id IS NOT NULL
               AND m.deleted_at IS NULL AND m.kind = 'message'",
            (expr, workspace_id),
        )
        .await
        .unwrap();
    rows.next()
        .await
        .unwrap()
        .map(|r| r.get::<i64>(0).unwrap())
        .unwrap_or(0)
}

fn percentile(sorted: &[i64], pct: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((pct / 100.0) * (sorted.len() - 1) as f64).round() as usize]
}

pub async fn run(args: &[String]) {
    let total = flag(args, "--messages").unwrap_or(1_000_000).max(1_000);
    let runs = flag(args, "--runs").unwrap_or(200).max(10);
    let dir = tempfile::Builder::new()
        .prefix("clickclack-bench-search-")
        .tempdir_in(
            std::env::var("BENCH_DIR")
                .unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
        )
        .expect("temp dir");
    let path = dir.path().join("search.db");
    let location = || DbLocation::parse(path.to_str().unwrap()).unwrap();
    println!(
        "# search benchmark ({total} messages, {runs} runs per shape, data in {})",
        dir.path().display()
    );

    let store = Store::open(StoreOptions::new(location())).await.unwrap();
    let chat = Chat::new(store.clone(), ChatConfig::default());
    let world = setup(&chat).await;
    let owner = Actor::new(chat.user(&world.owner).await.unwrap().unwrap());
    store.close().await;
    drop(chat);
    drop(store);

    let mut vocab = Vocabulary::new();
    let seeding = Instant::now();
    seed(&path, &world, &mut vocab, total).await;
    let seed_time = seeding.elapsed();
    let db_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "seeded {total} messages in {:.1}s ({:.0}/s), database {:.0} MiB",
        seed_time.as_secs_f64(),
        total as f64 / seed_time.as_secs_f64(),
        db_bytes as f64 / (1024.0 * 1024.0)
    );

    let store = Store::open(StoreOptions::new(location())).await.unwrap();
    let chat = Chat::new(store.clone(), ChatConfig::default());
    let mut rng = Rng(2026);
    let samples = sample_messages(&store, total, runs * 4, &mut rng).await;
    let shapes = shapes(&vocab, &samples, runs, &mut rng);

    let query = |q: &str| SearchQuery {
        workspace_id: world.workspace_id.clone(),
        q: q.to_string(),
        ..Default::default()
    };
    // Warm the page cache and the reader pool.
    for shape in &shapes {
        for q in shape.queries.iter().take(20) {
            chat.search(&owner, &query(q)).await.unwrap();
        }
    }

    println!();
    println!("| query shape | example | runs | p50 ms | p95 ms | p99 ms | FTS matches p50 | FTS matches p95 | results/page p50 |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for shape in &shapes {
        let mut latencies = Vec::with_capacity(runs);
        let mut returned = Vec::with_capacity(runs);
        let mut errors = 0;
        let started = Instant::now();
        for q in &shape.queries {
            if std::env::var_os("BENCH_TRACE").is_some() {
                eprintln!("  query {q:?}");
            }
            let t = Instant::now();
            match chat.search(&owner, &query(q)).await {
                Ok(page) => {
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    if ms > 100.0 {
                        eprintln!("  slow: {q:?} took {ms:.0} ms");
                    }
                    latencies.push(ms);
                    returned.push(page.results.len() as i64);
                }
                Err(e) => {
                    errors += 1;
                    eprintln!("{q:?}: {e}");
                }
            }
        }
        let outcome = Outcome::new(latencies, started.elapsed(), errors);
        let mut matches = Vec::new();
        for q in &shape.queries {
            matches.push(match_count(&store, &world.workspace_id, q).await);
        }
        matches.sort_unstable();
        returned.sort_unstable();
        println!(
            "| {} | `{}` | {} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
            shape.name,
            shape.queries[0].replace('|', "\\|"),
            outcome.latencies_ms.len(),
            outcome.p(50.0),
            outcome.p(95.0),
            outcome.p(99.0),
            percentile(&matches, 50.0),
            percentile(&matches, 95.0),
            percentile(&returned, 50.0),
        );
        if errors > 0 {
            println!("({errors} errors in {})", shape.name);
        }
    }
    store.close().await;
    if args.iter().any(|a| a == "--keep") {
        println!("kept {}", dir.keep().display());
    }
}
