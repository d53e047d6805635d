//! Setup shared by the ingest tests: a scripted randomuser.me-compatible HTTP server (a tiny
//! HTTP/1.1 responder on a loopback port), the users it serves with the events they must
//! become, the real Kafka, and reading a topic back.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use clap::Parser;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use weir_ingest::{IngestArgs, IngestConfig, UserEvent, UserSourceConfig};

pub use weir_test_support::unique_topic;

/// Generous: the first read of a fresh topic waits for a group join.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// What the fixture answers to one request, in script order.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with `{"results": [...]}`.
    Users(Vec<Value>),
    /// This status, with a short text body.
    Status(u16),
    /// 429 with `Retry-After: <seconds>`.
    TooMany(u64),
    /// Waits this long before answering 200 with these results.
    Slow(Duration, Vec<Value>),
    /// 200 with this body as is.
    Raw(&'static str),
}

/// A randomuser.me stand-in that answers each request with the next scripted reply (503
/// once the script is exhausted, so an unexpected request shows up as a failure).
pub struct Fixture {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Fixture {
    /// Starts serving `script` on a free loopback port.
    pub async fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/api/", listener.local_addr().expect("addr"));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(answer(socket, script.clone(), seen.clone()));
            }
        });
        Self { url, requests }
    }

    /// The API URL, to pass as `--url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The request targets received so far (`/api/?results=5`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }
}

async fn answer(
    mut socket: TcpStream,
    script: Arc<Mutex<VecDeque<Reply>>>,
    seen: Arc<Mutex<Vec<String>>>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
    seen.lock().expect("lock").push(target);
    let reply = script
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or(Reply::Status(503));
    let (status, extra, body) = match reply {
        Reply::Users(results) => (200, String::new(), results_body(results)),
        Reply::Status(code) => (code, String::new(), format!("fixture says {code}")),
        Reply::TooMany(seconds) => (
            429,
            format!("Retry-After: {seconds}\r\n"),
            "slow down".into(),
        ),
        Reply::Slow(delay, results) => {
            // The server is slow, not the test: the client is expected to give up first.
            tokio::time::sleep(delay).await;
            (200, String::new(), results_body(results))
        }
        Reply::Raw(body) => (200, String::new(), body.to_owned()),
    };
    let response = format!(
        "HTTP/1.1 {status} Fixture\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}

fn results_body(results: Vec<Value>) -> String {
    json!({"results": results, "info": {"seed": "fixture", "results": results.len(), "page": 1, "version": "1.4"}})
        .to_string()
}

/// User `i` as the API serves it, and the event it must become.
pub fn api_user(i: u32) -> (Value, UserEvent) {
    let id = format!("00000000-0000-4000-8000-{i:012x}");
    let female = i.is_multiple_of(2);
    let gender = if female { "female" } else { "male" };
    let value = json!({
        "gender": gender,
        "name": {"title": "Dr", "first": format!("First{i}"), "last": format!("Last{i}")},
        "location": {
            "street": {"number": 100 + i, "name": "Rue du Fixture"},
            "city": "Lyon", "state": "Rhône", "country": "France",
            "postcode": format!("{:05}", 69000 + i),
            "coordinates": {"latitude": "45.7", "longitude": "4.8"},
            "timezone": {"offset": "+1:00", "description": "Paris"},
        },
        "email": format!("user{i}@example.com"),
        "login": {"uuid": id, "username": format!("user{i}"), "password": "x", "salt": "y", "md5": "z"},
        "dob": {"date": format!("1980-01-{:02}T10:00:00.000Z", 1 + i % 28), "age": 46},
        "registered": {"date": "2010-06-15T08:30:00.250Z", "age": 15},
        "phone": format!("04-{i:02}-00-00"),
        "cell": "06-00-00-00",
        "id": {"name": "INSEE", "value": "1"},
        "picture": {"large": "l.jpg", "medium": format!("https://example.com/med/{i}.jpg"), "thumbnail": "t.jpg"},
        "nat": "FR",
    });
    let event = UserEvent {
        id,
        first_name: format!("First{i}"),
        last_name: format!("Last{i}"),
        gender: gender.into(),
        address: format!("{} Rue du Fixture, Lyon, Rhône, France", 100 + i),
        post_code: format!("{:05}", 69000 + i),
        email: format!("user{i}@example.com"),
        username: format!("user{i}"),
        dob: format!("1980-01-{:02}T10:00:00.000Z", 1 + i % 28),
        registered_date: "2010-06-15T08:30:00.250Z".into(),
        phone: format!("04-{i:02}-00-00"),
        picture: format!("https://example.com/med/{i}.jpg"),
    };
    (value, event)
}

/// Users `range` as served, and as expected on the topic.
pub fn api_users(range: std::ops::Range<u32>) -> (Vec<Value>, Vec<UserEvent>) {
    range.map(api_user).unzip()
}

/// The real Kafka: `WEIR_TEST_KAFKA`, else the shared test peers.
pub fn kafka() -> String {
    match std::env::var("WEIR_TEST_KAFKA") {
        Ok(addr) if !addr.is_empty() => addr,
        _ => weir_test_support::peers().kafka.clone(),
    }
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    ingest: IngestArgs,
}

/// `weir ingest` flags as a user types them, against the test Kafka, to a fresh
/// one-partition `topic` (created by the run), with short backoffs so retries are quick.
pub fn config(topic: &str, args: &[&str]) -> IngestConfig {
    let kafka = kafka();
    let base = [
        "weir-ingest",
        "--brokers",
        &kafka,
        "--topic",
        topic,
        "--create-topic",
        "--partitions",
        "1",
    ];
    let cli = Cli::try_parse_from(base.iter().chain(args)).expect("flags parse");
    let mut config = cli.ingest.validate().expect("flags are valid");
    if let UserSourceConfig::Api { retry, .. } = &mut config.source {
        retry.base_delay = Duration::from_millis(20);
        retry.max_delay = Duration::from_millis(100);
    }
    config
}

/// Flags as `weir ingest` receives them (for [`weir_ingest::run`]).
pub fn args(topic: &str, args: &[&str]) -> IngestArgs {
    let kafka = kafka();
    let base = [
        "weir-ingest",
        "--brokers",
        &kafka,
        "--topic",
        topic,
        "--create-topic",
    ];
    Cli::try_parse_from(base.iter().chain(args))
        .expect("flags parse")
        .ingest
}

/// One record read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Produced {
    /// The record key, as text.
    pub key: String,
    /// The value, parsed as a user.
    pub user: UserEvent,
}

fn reader(topic: &str) -> StreamConsumer {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", kafka())
        .set("group.id", unique_topic("ingest-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("reader");
    consumer.subscribe(&[topic]).expect("subscribe");
    consumer
}

/// The first `n` records of `topic`, in partition order, failing at the deadline.
pub async fn read_topic(topic: &str, n: usize) -> Vec<Produced> {
    let consumer = reader(topic);
    let mut out = Vec::new();
    tokio::time::timeout(DEADLINE, async {
        while out.len() < n {
            let message = consumer.recv().await.expect("read");
            let key = String::from_utf8(message.key().expect("every record has a key").to_vec())
                .expect("text key");
            let user = serde_json::from_slice(message.payload().unwrap_or_default())
                .expect("the value is a flat user event");
            out.push(Produced { key, user });
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "only {} of {n} records in `{topic}` within {DEADLINE:?}",
            out.len()
        )
    });
    out
}

/// How many records `topic` (one partition) holds.
pub fn records_in(topic: &str) -> i64 {
    let consumer = reader(topic);
    let (low, high) = consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(10))
        .expect("watermarks");
    high - low
}

/// Asserts that `topic` holds exactly `expected`, in order, each keyed by its id.
pub async fn assert_topic_holds_exactly(topic: &str, expected: &[UserEvent]) {
    let produced = read_topic(topic, expected.len()).await;
    for (got, want) in produced.iter().zip(expected) {
        assert_eq!(got.key, want.id, "keyed by id");
        assert_eq!(&got.user, want);
    }
    assert_eq!(
        records_in(topic),
        expected.len() as i64,
        "no record beyond the expected ones"
    );
}
