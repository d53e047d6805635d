//! A single-node KRaft Kafka (broker and controller in one JVM) configured for fast tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{Launch, Setup, tail};
use crate::{Credentials, Error, Kind};

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
        auth,
        cassandra_tls: _,
        commitlog_sync: _,
    } = *setup;
    let data = dir.join("data");
    let props = dir.join("server.properties");
    std::fs::write(
        &props,
        server_properties(&data, port, controller_port, auth),
    )
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
        auth: auth.cloned(),
        tls_ca: None,
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

/// The largest record batch the broker accepts (Kafka's default is about 1 MB): room for the
/// hostile-input tests' 10 MB value, so that weir's own limit is what they exercise.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// Single node, loopback only, internal topics at RF 1 with one partition, no rebalance delay,
/// few threads, and no topic auto-creation so tests create what they use. No time-based
/// retention: tests produce records with fixed past timestamps (so derived ages are
/// reproducible), and the broker would otherwise delete them mid-test as expired. With `auth`
/// the client listener is SASL_PLAINTEXT (mechanism PLAIN, also used by the broker towards
/// itself); the controller listener stays PLAINTEXT on loopback.
fn server_properties(
    data: &Path,
    port: u16,
    controller_port: u16,
    auth: Option<&Credentials>,
) -> String {
    let (listener, sasl) = match auth {
        None => ("PLAINTEXT", String::new()),
        Some(auth) => (
            "SASL_PLAINTEXT",
            format!(
                "sasl.enabled.mechanisms=PLAIN\n\
                 sasl.mechanism.inter.broker.protocol=PLAIN\n\
                 listener.name.sasl_plaintext.plain.sasl.jaas.config={}\n",
                plain_jaas(auth)
            ),
        ),
    };
    format!(
        "\
process.roles=broker,controller
node.id={NODE_ID}
controller.quorum.voters={NODE_ID}@127.0.0.1:{controller_port}
listeners={listener}://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners={listener}://127.0.0.1:{port}
inter.broker.listener.name={listener}
controller.listener.names=CONTROLLER
listener.security.protocol.map={listener}:{listener},CONTROLLER:PLAINTEXT
{sasl}log.dirs={data}
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
message.max.bytes={MAX_MESSAGE_BYTES}
replica.fetch.max.bytes={MAX_MESSAGE_BYTES}
",
        data = PathBuf::from(data).display()
    )
}

/// The JAAS login of the SASL/PLAIN listener: `auth` is the one user the broker accepts and
/// the identity it uses towards itself. Escaped twice: as JAAS quoted strings, then for the
/// properties file, where a backslash is an escape too.
fn plain_jaas(auth: &Credentials) -> String {
    let quote = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    let (user, password) = (quote(&auth.user), quote(&auth.password));
    let jaas = format!(
        "org.apache.kafka.common.security.plain.PlainLoginModule required \
         username=\"{user}\" password=\"{password}\" user_{user}=\"{password}\";"
    );
    jaas.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Ready = a Metadata (v1) request answers and lists broker 1, which KRaft does only once the
/// broker is unfenced and serving. With `auth`, the connection first logs in (SaslHandshake v1
/// and SaslAuthenticate v0, mechanism PLAIN), as a client of the SASL listener must.
pub(crate) fn probe(addr: SocketAddr, auth: Option<&Credentials>) -> Result<(), String> {
    let brokers = metadata_brokers(addr, auth)?;
    if brokers.contains(&NODE_ID) {
        Ok(())
    } else {
        Err(format!("metadata lists brokers {brokers:?}, not {NODE_ID}"))
    }
}

const SASL_HANDSHAKE: i16 = 17;
const SASL_AUTHENTICATE: i16 = 36;
const METADATA: i16 = 3;

fn metadata_brokers(addr: SocketAddr, auth: Option<&Credentials>) -> Result<Vec<i32>, String> {
    let timeout = Duration::from_secs(2);
    let connect = || -> std::io::Result<TcpStream> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(stream)
    };
    let mut stream = connect().map_err(|e| format!("connect: {e}"))?;
    if let Some(auth) = auth {
        sasl_plain(&mut stream, auth)?;
    }
    let topics_none = 0i32.to_be_bytes();
    let response = request(&mut stream, METADATA, 1, &topics_none)
        .map_err(|e| format!("metadata request: {e}"))?;
    parse_brokers(&response).ok_or_else(|| "malformed metadata response".to_owned())
}

/// Logs in with SASL/PLAIN. A refused password is reported without the password.
fn sasl_plain(stream: &mut TcpStream, auth: &Credentials) -> Result<(), String> {
    let mechanism = b"PLAIN";
    let mut body = (mechanism.len() as i16).to_be_bytes().to_vec();
    body.extend_from_slice(mechanism);
    let response =
        request(stream, SASL_HANDSHAKE, 1, &body).map_err(|e| format!("SASL handshake: {e}"))?;
    match Reader(&response).i16() {
        Some(0) => {}
        code => return Err(format!("SASL handshake refused PLAIN (error {code:?})")),
    }
    // RFC 4616: authzid NUL authcid NUL password.
    let token = format!("\0{}\0{}", auth.user, auth.password);
    let mut body = (token.len() as i32).to_be_bytes().to_vec();
    body.extend_from_slice(token.as_bytes());
    let response = request(stream, SASL_AUTHENTICATE, 0, &body)
        .map_err(|e| format!("SASL authenticate: {e}"))?;
    match Reader(&response).i16() {
        Some(0) => Ok(()),
        code => Err(format!(
            "SASL/PLAIN login as `{}` refused (error {code:?})",
            auth.user
        )),
    }
}

/// Sends one request (header v1, correlation id 7) and returns the response after its
/// correlation id, which must be 7.
fn request(
    stream: &mut TcpStream,
    api_key: i16,
    version: i16,
    payload: &[u8],
) -> std::io::Result<Vec<u8>> {
    let client_id = b"weir-peers";
    let mut body = Vec::new();
    body.extend_from_slice(&api_key.to_be_bytes());
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&7i32.to_be_bytes()); // correlation id
    body.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    body.extend_from_slice(client_id);
    body.extend_from_slice(payload);
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
    match response.split_first_chunk::<4>() {
        Some((id, rest)) if i32::from_be_bytes(*id) == 7 => Ok(rest.to_vec()),
        _ => Err(invalid("response with another correlation id")),
    }
}

/// Parses the v1 broker array (node id, host, port, rack).
fn parse_brokers(buf: &[u8]) -> Option<Vec<i32>> {
    let mut r = Reader(buf);
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
    fn i16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
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
