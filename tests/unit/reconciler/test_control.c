/* The control socket (reconciler/control.h): a request and its answer round-trip whole; no
 * service, a dead one, a silent one, a client that leaves, bad requests and other users. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reconciler/control.h"

static char dir[] = "/tmp/vcm-test-control-XXXXXX";

static int setup(void **state) {
        assert_non_null(mkdtemp(dir));
        return 0;
}

static int teardown(void **state) {
        char sock[128];
        snprintf(sock, sizeof(sock), "%s/%s", dir, VCM_CONTROL_SOCKET);
        unlink(sock);
        rmdir(dir);
        return 0;
}

typedef struct asker {
        vcm_plan_request req;
        int timeout_ms;
        int result;
        vcm_plan_answer answer;
        char *error;
} asker;

static void *ask(void *p) {
        asker *a = p;
        a->result = vcm_control_ask_plan(dir, &a->req, a->timeout_ms, &a->answer, &a->error);
        return NULL;
}

/* Accept the one client, waiting for it (the listening socket does not block). */
static int accept_one(int lfd, int *conn, vcm_plan_request *req, char **error) {
        for (int i = 0; i < 2000; i++) {
                int r = vcm_control_accept(lfd, conn, req, error);
                if (r != -EAGAIN)
                        return r;
                usleep(1000);
        }
        return -ETIMEDOUT;
}

static void test_round_trip(void **state) {
        int lfd = -1;
        assert_int_equal(vcm_control_listen(dir, &lfd), 0);
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", dir, VCM_CONTROL_SOCKET);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0600);

        asker a = { .req = { .source = "dir:/srv/specs", .at = 1798761600, .json = true,
                             .allow_empty = true },
                    .timeout_ms = 5000 };
        pthread_t t;
        pthread_create(&t, NULL, ask, &a);
        int conn = -1;
        vcm_plan_request req = { 0 };
        char *error = NULL;
        assert_int_equal(accept_one(lfd, &conn, &req, &error), 0);
        assert_string_equal(req.source, "dir:/srv/specs");
        assert_int_equal(req.at, 1798761600);
        assert_true(req.json);
        assert_false(req.color);
        assert_true(req.allow_empty);

        /* Diagnostics with and without a file; output with newlines, quotes and a big body. */
        vcm_plan_answer out = { .pid = 4242, .exit_code = 2, .commit = "0123456789abcdef" };
        size_t big = 3 * 1024 * 1024;
        out.output = malloc(big + 64);
        memset(out.output, 'x', big);
        strcpy(out.output + big, "\n\"Plan\": 1 to create.\n");
        vcm_diags_error(&out.load_diags, ((vcm_pos){ "clusters/bad.yaml", 4, 8 }),
                        "unknown key '%s'", "bogus");
        vcm_diags_warning(&out.pass_diags, ((vcm_pos){ 0 }), "host h2 is unreachable");
        assert_int_equal(vcm_control_reply(conn, &out), 0);
        pthread_join(t, NULL);

        assert_int_equal(a.result, 0);
        assert_null(a.answer.declined);
        assert_int_equal(a.answer.pid, 4242);
        assert_int_equal(a.answer.exit_code, 2);
        assert_string_equal(a.answer.output, out.output);
        assert_string_equal(a.answer.commit, "0123456789abcdef");
        assert_int_equal(a.answer.load_diags.n, 1);
        assert_int_equal(a.answer.load_diags.n_errors, 1);
        assert_string_equal(a.answer.load_diags.items[0].pos.file, "clusters/bad.yaml");
        assert_int_equal(a.answer.load_diags.items[0].pos.line, 4);
        assert_int_equal(a.answer.load_diags.items[0].pos.column, 8);
        assert_string_equal(a.answer.load_diags.items[0].message, "unknown key 'bogus'");
        assert_int_equal(a.answer.pass_diags.n, 1);
        assert_int_equal(a.answer.pass_diags.items[0].severity, VCM_SEV_WARNING);
        assert_null(a.answer.pass_diags.items[0].pos.file);
        vcm_plan_answer_clear(&a.answer);
        out.commit = NULL; /* not the answer's own */
        vcm_plan_answer_clear(&out);
        vcm_plan_request_clear(&req);

        /* Declined: the reason, no output. */
        a = (asker){ .req = { .source = "dir:/elsewhere" }, .timeout_ms = 5000 };
        pthread_create(&t, NULL, ask, &a);
        assert_int_equal(accept_one(lfd, &conn, &req, &error), 0);
        vcm_plan_answer no = { .pid = 1, .declined = "it reconciles dir:/srv/specs" };
        assert_int_equal(vcm_control_reply(conn, &no), 0);
        pthread_join(t, NULL);
        assert_int_equal(a.result, 0);
        assert_string_equal(a.answer.declined, "it reconciles dir:/srv/specs");
        assert_null(a.answer.output);
        vcm_plan_answer_clear(&a.answer);
        vcm_plan_request_clear(&req);

        /* Nobody waiting: -EAGAIN, not a block. */
        assert_int_equal(vcm_control_accept(lfd, &conn, &req, &error), -EAGAIN);

        /* A service that does not answer in time. */
        a = (asker){ .req = { .source = "dir:/srv/specs" }, .timeout_ms = 100 };
        pthread_create(&t, NULL, ask, &a);
        pthread_join(t, NULL);
        assert_int_equal(a.result, -ETIMEDOUT);
        assert_non_null(strstr(a.error, "no answer in time"));
        free(a.error);
        /* Its request is still queued; the client has gone: replying fails, no SIGPIPE. */
        assert_int_equal(accept_one(lfd, &conn, &req, &error), 0);
        no.declined = "late";
        assert_true(vcm_control_reply(conn, &no) < 0);
        vcm_plan_request_clear(&req);

        /* Not a request: refused with a reason, the connection closed. */
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        assert_true(strlen(path) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, path, strlen(path) + 1);
        assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(write(c, "{\"op\":\"apply\",\"source\":\"x\"}\n", 28), 28);
        assert_int_equal(accept_one(lfd, &conn, &req, &error), -EOPNOTSUPP);
        assert_non_null(strstr(error, "unknown request 'apply'"));
        free(error);
        error = NULL;
        char buf[8];
        assert_int_equal(read(c, buf, sizeof(buf)), 0); /* closed without an answer */
        close(c);

        /* Another user (not root, not the service's) is refused even when the file's mode
         * would let it in (an admin's chmod): the check is on the peer's credentials. */
        if (geteuid() == 0) {
                assert_int_equal(chmod(dir, 0711), 0);
                assert_int_equal(chmod(path, 0666), 0);
                pid_t pid = fork();
                if (pid == 0) {
                        if (setuid(65534) < 0)
                                _exit(2);
                        vcm_plan_answer x = { 0 };
                        char *e = NULL;
                        vcm_plan_request q = { .source = "dir:/srv/specs" };
                        int r = vcm_control_ask_plan(dir, &q, 5000, &x, &e);
                        _exit(r == 0 ? 3 : 0); /* closed without an answer */
                }
                assert_int_equal(accept_one(lfd, &conn, &req, &error), -EPERM);
                assert_non_null(strstr(error, "uid 65534 refused"));
                free(error);
                error = NULL;
                int status;
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
                assert_int_equal(chmod(dir, 0700), 0);
        }

        vcm_control_close(dir, lfd);
        assert_int_equal(stat(path, &st), -1);
}

static void test_no_service(void **state) {
        vcm_plan_request req = { .source = "dir:/srv/specs" };
        vcm_plan_answer a = { 0 };
        char *error = NULL;
        /* No socket file. */
        assert_int_equal(vcm_control_ask_plan(dir, &req, 1000, &a, &error), -ENOENT);
        /* A dead service's file: refused at once, not waited for. */
        int lfd = -1;
        assert_int_equal(vcm_control_listen(dir, &lfd), 0);
        close(lfd);
        assert_int_equal(vcm_control_ask_plan(dir, &req, 1000, &a, &error), -ECONNREFUSED);
        /* A new service replaces it. */
        assert_int_equal(vcm_control_listen(dir, &lfd), 0);
        vcm_control_close(dir, lfd);
        /* A state directory that does not exist. */
        assert_int_equal(vcm_control_ask_plan("/nonexistent/vcm", &req, 1000, &a, &error),
                         -ENOENT);
        assert_null(error);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_no_service),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
