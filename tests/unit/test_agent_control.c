// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket server, for real: control_start() on a unix socket in a
 * temporary directory, with handlers defined here, and clients that speak
 * the protocol of docs/control.md over the socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "log.h"

#define CONSISTENT_NS 1714564800123456789ull

static char dir[32];
static char sock_path[64];
static atomic_int n_status, n_pause, n_resume, n_sync;
static atomic_int fail_pause;
static atomic_int sync_delay_ms;

/* a client that connects at setup and never sends: checked by the last test */
static int slow_fd = -1;

static json_t *h_status(void *ctx)
{
	(void)ctx;
	n_status++;
	return json_pack("{s:s,s:s,s:s,s:b,s:[{s:s,s:I}]}", "version", "0.1.0", "machine",
			 "test-01", "state", "CHANGE_COPY", "paused", 0, "disks", "name", "vda",
			 "size", (json_int_t)1 << 30);
}

static int h_pause(void *ctx, char *err, size_t errlen)
{
	(void)ctx;
	if (fail_pause) {
		snprintf(err, errlen, "not registered yet");
		return -EAGAIN;
	}
	n_pause++;
	return 0;
}

static int h_resume(void *ctx, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	n_resume++;
	return 0;
}

static int h_sync(void *ctx, uint64_t *consistent_ns, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	if (sync_delay_ms) {
		struct timespec ts = { .tv_sec = sync_delay_ms / 1000,
				       .tv_nsec = (sync_delay_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	n_sync++;
	*consistent_ns = CONSISTENT_NS;
	return 0;
}

static int h_point(void *ctx, uint64_t *point_id, uint64_t *point_ns, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	*point_id = 12;
	*point_ns = CONSISTENT_NS;
	return 0;
}

static const struct control_handlers handlers = {
	.status = h_status,
	.pause = h_pause,
	.resume = h_resume,
	.sync = h_sync,
	.point = h_point,
};

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read until EOF (the server closes after its one line), at most timeout_ms. */
static ssize_t read_reply(int fd, char *buf, size_t cap, int timeout_ms)
{
	size_t len = 0;

	while (len + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			break; /* EOF, or ECONNRESET after an unread oversized request */
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Send raw bytes, return the parsed one-line reply (asserting it is one line). */
static json_t *exchange_raw(const char *data, size_t len)
{
	char buf[16384];
	json_error_t jerr;
	json_t *reply;
	ssize_t n;
	int fd = connect_to(sock_path);

	assert_true(fd >= 0);
	assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
	n = read_reply(fd, buf, sizeof(buf), 60000);
	close(fd);
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
	reply = json_loadb(buf, (size_t)n, 0, &jerr);
	assert_non_null(reply);
	assert_true(json_is_boolean(json_object_get(reply, "ok")));
	return reply;
}

static json_t *exchange(const char *line)
{
	return exchange_raw(line, strlen(line));
}

static void assert_error_contains(json_t *reply, const char *needle)
{
	const char *msg = json_string_value(json_object_get(reply, "error"));

	assert_false(json_is_true(json_object_get(reply, "ok")));
	assert_non_null(msg);
	if (!strstr(msg, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", msg, needle);
}

static void assert_status_works(void)
{
	json_t *r = exchange("{\"cmd\":\"status\"}\n");

	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
}

static int setup(void **state)
{
	char err[256] = "";
	struct stat st;

	(void)state;
	log_init("test_agent_control", LOG_LVL_WARN, 0);
	snprintf(dir, sizeof(dir), "/tmp/livemig-ctl-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* the parent directory does not exist yet: control_start creates it */
	snprintf(sock_path, sizeof(sock_path), "%s/run/livemigd.sock", dir);
	if (control_start(sock_path, &handlers, err, sizeof(err)) < 0) {
		fprintf(stderr, "control_start: %s\n", err);
		return -1;
	}
	if (stat(sock_path, &st) < 0 || !S_ISSOCK(st.st_mode) || (st.st_mode & 0777) != 0660)
		return -1;
	slow_fd = connect_to(sock_path);
	return slow_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char sub[64];
	struct stat st;
	int gone;

	(void)state;
	control_stop();
	gone = stat(sock_path, &st) < 0 && errno == ENOENT;
	if (slow_fd >= 0)
		close(slow_fd);
	snprintf(sub, sizeof(sub), "%s/run", dir);
	rmdir(sub);
	rmdir(dir);
	return gone ? 0 : -1;
}

static void test_status_round_trip(void **state)
{
	json_t *r, *st;
	int before = n_status;

	(void)state;
	r = exchange("{\"cmd\":\"status\"}\n");
	assert_true(json_is_true(json_object_get(r, "ok")));
	st = json_object_get(r, "status");
	assert_true(json_is_object(st));
	assert_string_equal(json_string_value(json_object_get(st, "machine")), "test-01");
	assert_string_equal(json_string_value(json_object_get(st, "state")), "CHANGE_COPY");
	assert_int_equal(json_array_size(json_object_get(st, "disks")), 1);
	assert_int_equal(n_status, before + 1);
	json_decref(r);
}

static void test_request_without_newline_at_eof(void **state)
{
	const char req[] = "{\"cmd\":\"status\"}";
	char buf[4096];
	int fd = connect_to(sock_path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
	shutdown(fd, SHUT_WR);
	assert_true(read_reply(fd, buf, sizeof(buf), 60000) > 0);
	close(fd);
	assert_non_null(strstr(buf, "\"ok\":true"));
}

static void test_pause_resume_reach_handlers(void **state)
{
	int p = n_pause, r = n_resume;
	json_t *reply;

	(void)state;
	reply = exchange("{\"cmd\":\"pause\"}\n");
	assert_true(json_is_true(json_object_get(reply, "ok")));
	json_decref(reply);
	assert_int_equal(n_pause, p + 1);

	reply = exchange("{\"cmd\":\"resume\"}\n");
	assert_true(json_is_true(json_object_get(reply, "ok")));
	json_decref(reply);
	assert_int_equal(n_resume, r + 1);
	assert_int_equal(n_pause, p + 1);
}

static void test_handler_error_is_reported(void **state)
{
	json_t *reply;

	(void)state;
	fail_pause = 1;
	reply = exchange("{\"cmd\":\"pause\"}\n");
	fail_pause = 0;
	assert_error_contains(reply, "not registered yet");
	json_decref(reply);
}

/* `point` goes through the same waiting machinery as sync and answers the id */
static void test_point_returns_id(void **state)
{
	json_t *reply;

	(void)state;
	reply = exchange("{\"cmd\":\"point\",\"timeout_s\":60}\n");
	assert_true(json_is_true(json_object_get(reply, "ok")));
	assert_int_equal(json_integer_value(json_object_get(reply, "point_id")), 12);
	assert_true((uint64_t)json_integer_value(json_object_get(reply, "consistent_ns")) ==
		    CONSISTENT_NS);
	json_decref(reply);
	reply = exchange("{\"cmd\":\"point\",\"timeout_s\":-1}\n");
	assert_error_contains(reply, "timeout_s");
	json_decref(reply);
}

static void test_sync_returns_consistent_ns(void **state)
{
	int before = n_sync;
	json_t *reply;

	(void)state;
	reply = exchange("{\"cmd\":\"sync\",\"timeout_s\":600}\n");
	assert_true(json_is_true(json_object_get(reply, "ok")));
	assert_true(json_is_integer(json_object_get(reply, "consistent_ns")));
	assert_true((uint64_t)json_integer_value(json_object_get(reply, "consistent_ns")) ==
		    CONSISTENT_NS);
	assert_int_equal(n_sync, before + 1);
	json_decref(reply);

	reply = exchange("{\"cmd\":\"sync\",\"timeout_s\":\"soon\"}\n");
	assert_error_contains(reply, "timeout_s");
	json_decref(reply);
}

/* A sync slower than its timeout gets an error reply, and status meanwhile
 * is served: clients do not wait for each other. */
static void test_sync_timeout_and_concurrency(void **state)
{
	json_t *reply;
	int before = n_sync;

	(void)state;
	sync_delay_ms = 600;
	reply = exchange("{\"cmd\":\"sync\",\"timeout_s\":0.1}\n");
	assert_error_contains(reply, "did not complete");
	json_decref(reply);
	assert_status_works();
	/* let the call finish in the background before the next test: wait for
	 * it (the bound, 60 s, is only there so that a hang fails the test) */
	for (int i = 0; i < 3000 && n_sync == before; i++)
		usleep(20000);
	sync_delay_ms = 0;
	assert_int_equal(n_sync, before + 1);
}

static void test_bad_json_then_next_client(void **state)
{
	json_t *reply;

	(void)state;
	reply = exchange("{\"cmd\":\"status\"\n");
	assert_error_contains(reply, "invalid JSON");
	json_decref(reply);
	assert_status_works();

	reply = exchange("[1,2,3]\n");
	assert_error_contains(reply, "cmd");
	json_decref(reply);

	reply = exchange("{\"cmd\":42}\n");
	assert_error_contains(reply, "cmd");
	json_decref(reply);
	assert_status_works();
}

static void test_oversized_line_refused(void **state)
{
	size_t len = 8192;
	char *big = malloc(len);
	json_t *reply;

	(void)state;
	assert_non_null(big);
	/* a valid JSON prefix, so only the length can be the reason */
	memset(big, ' ', len);
	memcpy(big, "{\"cmd\":\"status\",\"pad\":\"", 24);
	big[len - 1] = '\n';
	reply = exchange_raw(big, len);
	assert_error_contains(reply, "longer than 4096");
	json_decref(reply);
	free(big);
	assert_status_works();
}

static void test_unknown_cmd_refused(void **state)
{
	json_t *reply;

	(void)state;
	reply = exchange("{\"cmd\":\"selfdestruct\"}\n");
	assert_error_contains(reply, "unknown command");
	json_decref(reply);
	assert_status_works();
}

static void test_second_start_on_live_path_fails(void **state)
{
	char err[256] = "";
	struct stat st;

	(void)state;
	assert_true(control_start(sock_path, &handlers, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "another livemigd is running"));
	/* and the live socket is left alone */
	assert_int_equal(stat(sock_path, &st), 0);
	assert_status_works();
}

/* A listener that is not ours, on another path: also "running". A socket
 * nobody listens on is stale and gets replaced; a plain file never is. */
static void test_existing_paths(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char other[64], err[256] = "";
	int fd;

	(void)state;
	snprintf(other, sizeof(other), "%s/other.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", other);

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	control_stop();
	assert_true(control_start(other, &handlers, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "another livemigd is running"));

	close(fd); /* the socket file stays: now it is stale */
	assert_int_equal(control_start(other, &handlers, err, sizeof(err)), 0);
	control_stop();
	assert_int_equal(access(other, F_OK), -1);

	fd = open(other, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_true(control_start(other, &handlers, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(unlink(other), 0);

	/* back to the server the other tests use; the slow client was cut at stop */
	assert_int_equal(control_start(sock_path, &handlers, err, sizeof(err)), 0);
	close(slow_fd);
	slow_fd = connect_to(sock_path);
	assert_true(slow_fd >= 0);
	assert_status_works();
}

/* Someone outside root and the socket's group, with the file mode opened up:
 * the peer credential check still refuses. The child only makes system calls
 * (it is forked from a threaded process). */
static void test_peer_credentials_checked(void **state)
{
	const char req[] = "{\"cmd\":\"pause\"}\n";
	char buf[512];
	int status, pauses = n_pause;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		/* switching to another uid to be refused needs root; CI runs as root */
		print_message("needs root to act as another user: skipped\n");
		skip();
	}
	/* mkdtemp made the directory 0700; nobody must be able to reach the socket */
	assert_int_equal(chmod(dir, 0711), 0);
	assert_int_equal(chmod(sock_path, 0666), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		size_t len = 0, plen = strlen(sock_path);
		ssize_t n;
		int fd;

		memcpy(sa.sun_path, sock_path, plen + 1);
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(11);
		/* The agent refuses before it reads a request, so the refusal and
		 * close may come before this send: then it fails with EPIPE or
		 * ECONNRESET (never SIGPIPE: MSG_NOSIGNAL) and the reply is still
		 * queued for the read below. Either order must end in the refusal. */
		n = send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
		if (n != (ssize_t)sizeof(req) - 1 && !(n < 0 && (errno == EPIPE || errno == ECONNRESET)))
			_exit(12);
		/* to EOF; after an early close the end may read as ECONNRESET */
		while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
			len += (size_t)n;
		/* the reply is {"ok":false,"error":"permission denied..."} */
		if (len < 12 || memcmp(buf, "{\"ok\":false,", 12) != 0)
			_exit(13);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(chmod(sock_path, 0660), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(n_pause, pauses);
}

/* Last: the client connected at setup never sent a line and must be told so
 * after 10 s (the tests above ran meanwhile, proving it blocked nobody). */
static void test_slow_client_times_out(void **state)
{
	char buf[512];

	(void)state;
	assert_true(read_reply(slow_fd, buf, sizeof(buf), 60000) > 0);
	assert_non_null(strstr(buf, "\"ok\":false"));
	assert_non_null(strstr(buf, "no complete request"));
	assert_status_works();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_round_trip),
		cmocka_unit_test(test_request_without_newline_at_eof),
		cmocka_unit_test(test_pause_resume_reach_handlers),
		cmocka_unit_test(test_handler_error_is_reported),
		cmocka_unit_test(test_sync_returns_consistent_ns),
		cmocka_unit_test(test_point_returns_id),
		cmocka_unit_test(test_sync_timeout_and_concurrency),
		cmocka_unit_test(test_bad_json_then_next_client),
		cmocka_unit_test(test_oversized_line_refused),
		cmocka_unit_test(test_unknown_cmd_refused),
		cmocka_unit_test(test_second_start_on_live_path_fails),
		cmocka_unit_test(test_existing_paths),
		cmocka_unit_test(test_peer_credentials_checked),
		cmocka_unit_test(test_slow_client_times_out),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
