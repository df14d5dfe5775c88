#!/usr/bin/env python3
"""A minimal SNTPv4 server (RFC 4330 section 5) on a loopback UDP port, for edgeprobe's
device-clock tests: it answers every client request with this machine's own clock, the
reference the test runs edgeprobe against (edgeprobe itself runs under libfaketime).

Usage: sntp_server.py HOST PORT   (PORT 0 picks a free one). It prints the port it bound,
then serves until killed.
"""

import socket
import struct
import sys
import time

NTP_UNIX_OFFSET = 2_208_988_800


def ntp_timestamp(seconds):
    whole = int(seconds)
    fraction = int((seconds - whole) * (1 << 32)) & 0xFFFFFFFF
    return struct.pack("!II", (whole + NTP_UNIX_OFFSET) & 0xFFFFFFFF, fraction)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((host, port))
    print(server.getsockname()[1], flush=True)
    while True:
        request, client = server.recvfrom(512)
        received = time.time()
        if len(request) < 48 or request[0] & 0x07 != 3:
            continue
        # LI 0, version 4, mode 4 (server); stratum 1 with reference id "TEST".
        header = struct.pack("!BBbb", 4 << 3 | 4, 1, 6, -20)
        root = struct.pack("!II", 0, 0) + b"TEST"
        reference = ntp_timestamp(received)
        originate = request[40:48]
        reply = header + root + reference + originate + ntp_timestamp(received)
        server.sendto(reply + ntp_timestamp(time.time()), client)


if __name__ == "__main__":
    main()
