//! A single-node KRaft Kafka (broker and controller in one JVM) configured for fast tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{Launch, Setup, tail};
use crate::{Error, Kind};

/// The fixed cluster id: every state dir is formatted with it (22-char base64url UUID).
const CLUSTER_ID: &str = "d2Vpci1wZWVycy1rYWZrYQ";
/// The broker's node id; the readiness probe waits until metadata lists it.
pub(crate) const NODE_ID: i32 = 1;
/// Main class, also used to recognise the JVM by its command line.
pub(crate) const MAIN: &str = "kafka.Kafka";

/// Writes the config, formats the data dir when fresh, and returns how to launch the broker.
pub(crate) fn prepare(setup: &Setup<'_>, port: u16, controller_port: u16) -> Result<Launch, Error> {
    let Setup {
        java,
        classpath,
        maven_dir,
        dir,
        ready_timeout,
        detached,
    } = *setup;
    let data = dir.join("data");
    let props = dir.join("server.properties");
    std::fs::write(&props, server_properties(&data, port, controller_port))
        .map_err(Error::io("cannot write", &props))?;
    let log4j = maven_dir.join("kafka").join("log4j2.properties");
    let log = dir.join("server.log");
    if !data.join("meta.properties").exists() {
        format_storage(java, classpath, &log4j, dir, &props)?;
    }
    let mut args: Vec<String> = [
        "-Xms128m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:InitiatingHeapOccupancyPercent=35",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
    ]
    .map(String::from)
    .to_vec();
    args.push(format!("-Dweir.kafka.log={}", log.display()));
    args.push(format!("-Dlog4j2.configurationFile={}", log4j.display()));
    args.extend(["-cp".into(), classpath.into(), MAIN.into()]);
    args.push(props.display().to_string());
    Ok(Launch {
        kind: Kind::Kafka,
        java: java.to_path_buf(),
        args,
        dir: dir.to_path_buf(),
        log,
        console: dir.join("console.log"),
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        ready_timeout,
        detached,
    })
}

fn format_storage(
    java: &Path,
    classpath: &str,
    log4j: &Path,
    dir: &Path,
    props: &Path,
) -> Result<(), Error> {
    let log = dir.join("format.log");
    let out = std::fs::File::create(&log).map_err(Error::io("cannot create", &log))?;
    let err = out.try_clone().map_err(Error::io("cannot open", &log))?;
    let status = Command::new(java)
        .arg("-Xmx256m")
        .arg(format!("-Dweir.kafka.log={}", log.display()))
        .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
        .args(["-cp", classpath, "kafka.tools.StorageTool", "format", "-g"])
        .args(["-t", CLUSTER_ID, "-c"])
        .arg(props)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|source| Error::Spawn {
            kind: Kind::Kafka,
            java: java.to_path_buf(),
            source,
        })?;
    if status.success() {
        return Ok(());
    }
    Err(Error::Step {
        kind: Kind::Kafka,
        step: "kafka.tools.StorageTool format",
        status: status.to_string(),
        tail: tail(&log, &log),
        log,
    })
}

/// Single node, loopback only, internal topics at RF 1 with one partition, no rebalance delay,
/// few threads, and no topic auto-creation so tests create what they use. No time-based
/// retention: tests produce records with fixed past timestamps (so derived ages are
/// reproducible), and the broker would otherwise delete them mid-test as expired.
fn server_properties(data: &Path, port: u16, controller_port: u16) -> String {
    format!(
        "\
process.roles=broker,controller
node.id={NODE_ID}
controller.quorum.voters={NODE_ID}@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={data}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=2097152
num.network.threads=2
num.io.threads=4
background.threads=2
group.coordinator.threads=1
num.partitions=1
auto.create.topics.enable=false
log.retention.ms=-1
",
        data = PathBuf::from(data).display()
    )
}

/// Ready = a Metadata (v1) request answers and lists broker 1, which KRaft does only once the
/// broker is unfenced and serving.
pub(crate) fn probe(addr: SocketAddr) -> Result<(), String> {
    let brokers = metadata_brokers(addr).map_err(|e| format!("metadata request: {e}"))?;
    if brokers.contains(&NODE_ID) {
        Ok(())
    } else {
        Err(format!("metadata lists brokers {brokers:?}, not {NODE_ID}"))
    }
}

fn metadata_brokers(addr: SocketAddr) -> std::io::Result<Vec<i32>> {
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let client_id = b"weir-peers";
    let mut body = Vec::new();
    body.extend_from_slice(&3i16.to_be_bytes()); // api key: Metadata
    body.extend_from_slice(&1i16.to_be_bytes()); // api version 1
    body.extend_from_slice(&7i32.to_be_bytes()); // correlation id
    body.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    body.extend_from_slice(client_id);
    body.extend_from_slice(&0i32.to_be_bytes()); // topics: none
    let mut request = (body.len() as i32).to_be_bytes().to_vec();
    request.extend_from_slice(&body);
    stream.write_all(&request)?;
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let len = usize::try_from(i32::from_be_bytes(len)).map_err(invalid)?;
    if len > 1 << 20 {
        return Err(invalid("response too large"));
    }
    let mut response = vec![0u8; len];
    stream.read_exact(&mut response)?;
    parse_brokers(&response).ok_or_else(|| invalid("malformed metadata response"))
}

/// Parses correlation id, then the v1 broker array (node id, host, port, rack).
fn parse_brokers(buf: &[u8]) -> Option<Vec<i32>> {
    let mut r = Reader(buf);
    if r.i32()? != 7 {
        return None;
    }
    let count = r.i32()?;
    let mut ids = Vec::new();
    for _ in 0..count.max(0) {
        ids.push(r.i32()?);
        r.string()?;
        r.i32()?;
        r.string()?;
    }
    Some(ids)
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn string(&mut self) -> Option<()> {
        let len = i16::from_be_bytes(self.take(2)?.try_into().ok()?);
        if len > 0 {
            self.take(len as usize)?;
        }
        Some(())
    }
}

fn invalid(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
}
