// SPDX-License-Identifier: GPL-2.0
/*
 * wl-sockets: sockets in known states.
 *
 *   wl-sockets TRUTH READY RESULT [PORT] [UNIX_PATH]
 *
 *   - an AF_UNIX SOCK_STREAM socketpair, 500 known bytes written on sv[0]
 *     and unread on sv[1];
 *   - TCP on 127.0.0.1: a listener on PORT (default 40100), a client
 *     connected to it and the accepted socket; 1000 known bytes sent by the
 *     client, unread on the accepted socket;
 *   - a UDP socket bound to 127.0.0.1:PORT+1;
 *   - an AF_UNIX SOCK_STREAM listener bound to UNIX_PATH (default
 *     $WL_TMPDIR or /tmp, wl-sockets-PID.sock).
 * On SIGUSR1: the unread bytes are read and compared, the TCP connection
 * carries a reply the other way, the bound names are still bound and the
 * unix listener accepts a new connection.
 */
#include "wl-common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#define SP_BYTES 500
#define TCP_BYTES 1000

static int sv[2], lsn = -1, cli = -1, acc = -1, udp = -1, ulsn = -1;
static int port = 40100;
static char upath[108];
static unsigned char spd[SP_BYTES], tcpd[TCP_BYTES];

static void check_recv(int fd, const unsigned char *want, size_t len, const char *what)
{
	unsigned char buf[4096];
	size_t got = 0;

	for (int tries = 0; got < len && tries < 100; tries++) {
		ssize_t n = recv(fd, buf + got, sizeof(buf) - got, MSG_DONTWAIT);

		if (n > 0)
			got += n;
		else if (n == 0)
			break;
		else if (errno == EAGAIN)
			usleep(10000);
		else
			break;
	}
	if (got != len)
		wl_broken("%s: %zu bytes unread, expected %zu", what, got, len);
	else if (memcmp(buf, want, len))
		wl_broken("%s: data differs", what);
}

static int local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &l))
		return -1;
	return ntohs(a.sin_port);
}

static void verify(void)
{
	struct sockaddr_un ua;
	socklen_t l = sizeof(ua);
	int c;

	check_recv(sv[1], spd, SP_BYTES, "socketpair");
	check_recv(acc, tcpd, TCP_BYTES, "tcp accepted socket");
	if (send(acc, "pong", 4, 0) != 4)
		wl_broken("tcp reply: %s", strerror(errno));
	else
		check_recv(cli, (const unsigned char *)"pong", 4, "tcp client");
	if (local_port(lsn) != port)
		wl_broken("tcp listener port %d, expected %d", local_port(lsn), port);
	if (local_port(udp) != port + 1)
		wl_broken("udp port %d, expected %d", local_port(udp), port + 1);
	if (getsockname(ulsn, (struct sockaddr *)&ua, &l) || strcmp(ua.sun_path, upath))
		wl_broken("unix listener not bound to %s", upath);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(ua.sun_path, upath);
	ua.sun_family = AF_UNIX;
	if (c < 0 || connect(c, (struct sockaddr *)&ua, sizeof(ua)))
		wl_broken("connect to the unix listener %s: %s", upath, strerror(errno));
	if (c >= 0)
		close(c);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr_un ua = { .sun_family = AF_UNIX };
	int one = 1;

	wl_init("sockets", argc, argv, 0);
	if (argc > 4)
		port = atoi(argv[4]);
	if (port <= 0 || port > 65534)
		wl_die("bad port");
	if (argc > 5)
		snprintf(upath, sizeof(upath), "%s", argv[5]);
	else
		snprintf(upath, sizeof(upath), "%s/wl-sockets-%d.sock",
			 getenv("WL_TMPDIR") ? getenv("WL_TMPDIR") : "/tmp", (int)getpid());
	for (int i = 0; i < SP_BYTES; i++)
		spd[i] = (unsigned char)(i * 13 + 1);
	for (int i = 0; i < TCP_BYTES; i++)
		tcpd[i] = (unsigned char)(i * 31 + 7);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		wl_die("socketpair");
	wl_write_all(sv[0], spd, SP_BYTES);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	lsn = socket(AF_INET, SOCK_STREAM, 0);
	if (lsn < 0 || setsockopt(lsn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lsn, (struct sockaddr *)&a, sizeof(a)) || listen(lsn, 8))
		wl_die("tcp listener on 127.0.0.1:%d", port);
	cli = socket(AF_INET, SOCK_STREAM, 0);
	if (cli < 0 || connect(cli, (struct sockaddr *)&a, sizeof(a)))
		wl_die("tcp connect");
	acc = accept(lsn, NULL, NULL);
	if (acc < 0)
		wl_die("accept");
	wl_write_all(cli, tcpd, TCP_BYTES);

	udp = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = htons(port + 1);
	if (udp < 0 || bind(udp, (struct sockaddr *)&a, sizeof(a)))
		wl_die("udp bind 127.0.0.1:%d", port + 1);

	unlink(upath);
	strcpy(ua.sun_path, upath);
	ulsn = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ulsn < 0 || bind(ulsn, (struct sockaddr *)&ua, sizeof(ua)) || listen(ulsn, 4))
		wl_die("unix listener %s", upath);
	usleep(100000);	/* let the TCP bytes land in the receive queue */

	wl_truth_open();
	wl_t(",\n  \"processes\": [");
	wl_truth_process(true, getpid(), getppid(), NULL, 0);
	wl_t("\n  ],\n  \"sockets\": [");
	wl_t("\n    {\"fd\": %d, \"family\": \"unix\", \"type\": \"stream\", \"pair_fd\": %d, \"rqueue\": 0}", sv[0], sv[1]);
	wl_t(",\n    {\"fd\": %d, \"family\": \"unix\", \"type\": \"stream\", \"pair_fd\": %d, \"rqueue\": %d, \"data\": \"i*13+1 mod 256\"}", sv[1], sv[0], SP_BYTES);
	wl_t(",\n    {\"fd\": %d, \"family\": \"inet\", \"proto\": \"tcp\", \"state\": \"listen\", \"src\": \"127.0.0.1:%d\"}", lsn, port);
	wl_t(",\n    {\"fd\": %d, \"family\": \"inet\", \"proto\": \"tcp\", \"state\": \"established\", \"src\": \"127.0.0.1:%d\", \"dst\": \"127.0.0.1:%d\", \"rqueue\": 0}",
	     cli, local_port(cli), port);
	wl_t(",\n    {\"fd\": %d, \"family\": \"inet\", \"proto\": \"tcp\", \"state\": \"established\", \"src\": \"127.0.0.1:%d\", \"dst\": \"127.0.0.1:%d\", \"rqueue\": %d, \"data\": \"i*31+7 mod 256\"}",
	     acc, port, local_port(cli), TCP_BYTES);
	wl_t(",\n    {\"fd\": %d, \"family\": \"inet\", \"proto\": \"udp\", \"src\": \"127.0.0.1:%d\"}", udp, port + 1);
	wl_t(",\n    {\"fd\": %d, \"family\": \"unix\", \"type\": \"stream\", \"state\": \"listen\", \"name\": \"%s\"}", ulsn, upath);
	wl_t("\n  ]");
	wl_truth_close();
	wl_ready();
	wl_park(verify, wl_result_path, false);
}
