"""A minimal MQTT 3.1.1 broker over TLS that checks IoT Hub SAS tokens, for edgeprobe's tests.

Usage: mqtt_sas_broker.py HOST PORT CERT_CHAIN_PEM KEY_PEM HUB [--websocket] DEVICE=BASE64KEY...

Written from the IoT Hub documentation ("Control access to IoT Hub with shared access
signatures", "Communicate with an IoT hub using the MQTT protocol") with Python's own hmac,
hashlib, base64 and urllib, independently of edgeprobe's token code, so a test passes only when
edgeprobe's token is what IoT Hub would accept. Answers each CONNECT as edgeHub does:

- client id not a registered device: CONNACK 5 (not authorized);
- user name other than `{HUB}/{device}/?api-version=...`, or a token that is malformed, expired,
  for another resource or signed with another key: CONNACK 4 (bad user name or password);
- otherwise CONNACK 0, and a PUBACK for each QoS 1 PUBLISH.

Every CONNECT is logged to stdout as one line `CONNECT client=<id> user=<name> password=<token>
verdict=<code>`, so a test can tell whether anything was sent and find the token edgeprobe made
(to assert it never appears in edgeprobe's output). The tests only ever pass 127.0.0.1.

With `--websocket` it serves MQTT over WebSockets as edgeHub does on 443: the opening handshake
of RFC 6455 section 4.2 at `/$iothub/websocket` with subprotocol `mqtt` (anything else gets
`404`/`400`), then MQTT packets in binary frames, the client's masked (section 5.3), written
here from the RFC with Python's hashlib and base64, independently of edgeprobe's framing.
"""

import base64
import hashlib
import struct
import hmac
import socket
import ssl
import sys
import threading
import time
import urllib.parse


def read_exactly(connection, count):
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_packet(connection):
    header = read_exactly(connection, 1)[0]
    length, multiplier = 0, 1
    while True:
        byte = read_exactly(connection, 1)[0]
        length += (byte & 0x7F) * multiplier
        multiplier *= 128
        if byte & 0x80 == 0:
            break
    return header, read_exactly(connection, length)


def take_string(body, at):
    size = int.from_bytes(body[at : at + 2], "big")
    return body[at + 2 : at + 2 + size], at + 2 + size


def token_is_valid(token, hub, device, key):
    prefix = "SharedAccessSignature "
    if not token.startswith(prefix):
        return False
    fields = dict(pair.split("=", 1) for pair in token[len(prefix) :].split("&") if "=" in pair)
    if not {"sr", "sig", "se"} <= fields.keys():
        return False
    expected_resource = urllib.parse.quote(f"{hub}/devices/{device}", safe="")
    if fields["sr"].lower() != expected_resource.lower():
        return False
    if int(fields["se"]) <= time.time():
        return False
    message = f"{fields['sr']}\n{fields['se']}".encode()
    signature = base64.b64encode(hmac.new(base64.b64decode(key), message, hashlib.sha256).digest())
    return hmac.compare_digest(signature, urllib.parse.unquote(fields["sig"]).encode())


WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocketConnection:
    """MQTT's bytes carried in WebSocket binary frames: `recv` and `sendall` as on a socket."""

    def __init__(self, connection):
        self.connection = connection
        self.buffer = b""

    def recv(self, count):
        while not self.buffer:
            frame = self.read_frame()
            if frame is None:
                return b""
            self.buffer += frame
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_frame(self):
        """The next data frame's payload, None at a close frame; pings answered."""
        while True:
            first, second = read_exactly(self.connection, 2)
            opcode, length = first & 0x0F, second & 0x7F
            if not second & 0x80:
                raise ValueError("client frames must be masked (RFC 6455 section 5.1)")
            if length == 126:
                (length,) = struct.unpack(">H", read_exactly(self.connection, 2))
            elif length == 127:
                (length,) = struct.unpack(">Q", read_exactly(self.connection, 8))
            mask = read_exactly(self.connection, 4)
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(read_exactly(self.connection, length)))
            if opcode == 0x8:
                return None
            if opcode == 0x9:
                self.send_frame(0xA, payload)
            elif opcode in (0x0, 0x2):
                return payload
            else:
                raise ValueError(f"unexpected opcode {opcode}")

    def send_frame(self, opcode, payload):
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([len(payload)])
        else:
            header += bytes([126]) + struct.pack(">H", len(payload))
        self.connection.sendall(header + payload)

    def sendall(self, data):
        self.send_frame(0x2, data)

    def close(self):
        self.connection.close()


def upgrade(connection):
    """The server's opening handshake (RFC 6455 section 4.2); None when refused."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = connection.recv(4096)
        if not chunk:
            return None
        head += chunk
    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    request = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    protocols = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
    if len(request) < 2 or request[1] != "/$iothub/websocket":
        connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return None
    if headers.get("upgrade", "").lower() != "websocket" or "mqtt" not in protocols:
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        return None
    digest = hashlib.sha1((headers["sec-websocket-key"] + WEBSOCKET_GUID).encode()).digest()
    accept = base64.b64encode(digest).decode()
    connection.sendall(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"
        ).encode()
    )
    print(f"UPGRADE path={request[1]}", flush=True)
    return WebSocketConnection(connection)


def serve_websocket(connection, hub, devices):
    try:
        framed = upgrade(connection)
    except (EOFError, OSError, ValueError, KeyError):
        framed = None
    if framed is None:
        connection.close()
        return
    serve_client(framed, hub, devices)


def serve_client(connection, hub, devices):
    try:
        header, body = read_packet(connection)
        if header != 0x10:
            return
        flags = body[7]
        at = 10
        client, at = take_string(body, at)
        user = password = b""
        if flags & 0x80:
            user, at = take_string(body, at)
        if flags & 0x40:
            password, at = take_string(body, at)
        client, user, password = client.decode(), user.decode(), password.decode()
        if client not in devices:
            verdict = 5
        elif not user.startswith(f"{hub}/{client}/?api-version="):
            verdict = 4
        elif not token_is_valid(password, hub, client, devices[client]):
            verdict = 4
        else:
            verdict = 0
        print(f"CONNECT client={client} user={user} password={password} verdict={verdict}", flush=True)
        connection.sendall(bytes([0x20, 0x02, 0x00, verdict]))
        if verdict != 0:
            return
        while True:
            header, body = read_packet(connection)
            if header >> 4 == 3 and (header >> 1) & 0x03 == 1:
                topic, at = take_string(body, 0)
                print(f"PUBLISH topic={topic.decode()}", flush=True)
                connection.sendall(bytes([0x40, 0x02]) + body[at : at + 2])
            elif header == 0xE0:
                return
    except (EOFError, OSError, ValueError, IndexError):
        pass
    finally:
        connection.close()


def main():
    if len(sys.argv) < 7:
        sys.exit(__doc__)
    host, port, chain, key, hub = sys.argv[1:6]
    websocket = "--websocket" in sys.argv[6:]
    devices = dict(argument.split("=", 1) for argument in sys.argv[6:] if argument != "--websocket")
    serve = serve_websocket if websocket else serve_client
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    listener = socket.create_server((host, int(port)))
    print(f"listening on {host}:{port}", flush=True)
    while True:
        raw, _ = listener.accept()
        try:
            connection = context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            continue
        threading.Thread(target=serve, args=(connection, hub, devices), daemon=True).start()


if __name__ == "__main__":
    main()
