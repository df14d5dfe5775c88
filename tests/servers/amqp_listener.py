"""An AMQP 1.0 listener with TLS and SASL, built on Qpid Proton's reactor, for edgeprobe's tests.

Usage: amqp_listener.py HOST PORT CERT_CHAIN_PEM KEY_PEM [HUB DEVICE=BASE64KEY...]

Serves AMQPS on HOST:PORT with the given certificate chain and key and requires SASL. Debian's
Proton is built without Cyrus SASL, and its built-in SASL can offer only ANONYMOUS (and EXTERNAL,
with a client certificate) as a server, so the sasl-mechanisms frame lists ANONYMOUS. The tests
only ever pass 127.0.0.1.

With HUB and devices it also serves a `$cbs` node as IoT Hub and edgeHub do (Azure's "AMQP
claims-based security" draft): a put-token request (application-properties operation=put-token,
type, name = `{HUB}/devices/{device}`; the SAS token as the body) is answered on the link its
reply-to names with status-code 200 (accepted), 401 (a token that is malformed, expired, for
another resource or signed with another key: checked with Python's hmac by the same
`token_is_valid` as mqtt_sas_broker.py) or 404 (not a registered device). Each request is logged
as one line `PUT-TOKEN name=<name> type=<type> token=<token> status=<code>`.
"""

import sys

from proton import Message, SSLDomain
from proton.handlers import MessagingHandler
from proton.reactor import Container

from mqtt_sas_broker import token_is_valid


class Listener(MessagingHandler):
    def __init__(self, host, port, chain, key, hub=None, devices=None):
        super().__init__()
        self.url = f"amqps://{host}:{port}"
        self.chain = chain
        self.key = key
        self.hub = hub
        self.devices = devices or {}
        # The client's receiver links on `$cbs`, by their target address (the reply-to).
        self.reply_links = {}

    def on_start(self, event):
        domain = SSLDomain(SSLDomain.MODE_SERVER)
        # The chain file is sent whole, leaf first, like edgeHub's full-chain certificate.
        domain.set_credentials(self.chain, self.key, None)
        event.container.listen(self.url, ssl_domain=domain)
        print(f"listening on {self.url}", flush=True)

    def on_connection_bound(self, event):
        # Server-side SASL: without this the transport would skip the SASL layer and answer
        # the SASL header with a plain AMQP header.
        sasl = event.transport.sasl()
        sasl.allowed_mechs("ANONYMOUS")

    def on_link_opening(self, event):
        link = event.link
        link.source.copy(link.remote_source)
        link.target.copy(link.remote_target)
        if link.is_sender and link.remote_source.address == "$cbs":
            self.reply_links[link.remote_target.address] = link

    def verdict(self, name, token_type, token):
        prefix = f"{self.hub}/devices/"
        device = name[len(prefix) :] if name.startswith(prefix) else None
        if device not in self.devices:
            return 404, "Not Found"
        if token_type != "servicebus.windows.net:sastoken" or not isinstance(token, str):
            return 401, "Unauthorized"
        if not token_is_valid(token, self.hub, device, self.devices[device]):
            return 401, "Unauthorized"
        return 200, "OK"

    def on_message(self, event):
        if self.hub is None or event.link.remote_target.address != "$cbs":
            return
        request = event.message
        properties = request.properties or {}
        name, token_type = str(properties.get("name", "")), str(properties.get("type", ""))
        status, description = self.verdict(name, token_type, request.body)
        if properties.get("operation") != "put-token":
            status, description = 400, "Bad Request"
        print(f"PUT-TOKEN name={name} type={token_type} token={request.body} status={status}", flush=True)
        reply_link = self.reply_links.get(request.reply_to)
        if reply_link is not None:
            reply = Message(
                address=request.reply_to,
                correlation_id=request.id,
                properties={"status-code": status, "status-description": description},
            )
            reply_link.send(reply)


def main():
    if len(sys.argv) < 5 or len(sys.argv) == 6:
        sys.exit(__doc__)
    host, port, chain, key = sys.argv[1:5]
    hub = sys.argv[5] if len(sys.argv) > 5 else None
    devices = dict(argument.split("=", 1) for argument in sys.argv[6:])
    Container(Listener(host, int(port), chain, key, hub, devices)).run()


if __name__ == "__main__":
    main()
