"""An AMQP 1.0 listener with TLS and SASL, built on Qpid Proton's reactor, for edgeprobe's tests.

Usage: amqp_listener.py HOST PORT CERT_CHAIN_PEM KEY_PEM

Serves AMQPS on HOST:PORT with the given certificate chain and key and requires SASL. Debian's
Proton is built without Cyrus SASL, and its built-in SASL can offer only ANONYMOUS (and EXTERNAL,
with a client certificate) as a server, so the sasl-mechanisms frame lists ANONYMOUS. edgeprobe's
probe stops after that frame: nothing authenticates. The tests only ever pass 127.0.0.1.
"""

import sys

from proton import SSLDomain
from proton.handlers import MessagingHandler
from proton.reactor import Container


class Listener(MessagingHandler):
    def __init__(self, host, port, chain, key):
        super().__init__()
        self.url = f"amqps://{host}:{port}"
        self.chain = chain
        self.key = key

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


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: amqp_listener.py HOST PORT CERT_CHAIN_PEM KEY_PEM")
    host, port, chain, key = sys.argv[1:]
    Container(Listener(host, int(port), chain, key)).run()


if __name__ == "__main__":
    main()
