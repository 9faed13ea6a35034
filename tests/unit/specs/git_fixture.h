/* Shell helpers for tests on real git repositories made in a temporary directory with the git
 * command. Include after cmocka.h. */
#ifndef VCM_TEST_GIT_FIXTURE_H
#define VCM_TEST_GIT_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run a shell command; the test fails when it does. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void sh(const char *fmt, ...) {
        char cmd[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        int r = system(cmd);
        if (r != 0)
                fail_msg("command failed (%d): %s", r, cmd);
}

/* The first line of a command's output. */
static __attribute__((unused)) void sh_out(char *buf, size_t len, const char *cmd) {
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(buf, (int)len, p));
        buf[strcspn(buf, "\n")] = 0;
        pclose(p);
}

#define GIT "git -c user.name=t -c user.email=t@example.org -c init.defaultBranch=main "

#endif
