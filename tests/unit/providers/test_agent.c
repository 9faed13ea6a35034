/* The agent's server loop and protocol, line by line: the server runs in a forked child on one end
 * of a socketpair, the test writes raw lines on the other and reads the replies. Handshake and
 * versions, every op, error replies that carry host, provider and cause, garbage of every sort
 * (each line gets exactly one reply and the server keeps serving), the line limit, and the JSON
 * codec of sites and resources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_fake.h"
#include "providers/agent/agent.h"
#include "providers/agent/agent_internal.h"

typedef struct peer {
        int fd;
        pid_t pid;
        agent_reader rd;
} peer;

static void peer_start(peer *p) {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        p->pid = fork();
        assert_true(p->pid >= 0);
        if (p->pid == 0) {
                close(sv[0]);
                vcm_agent_register(&af_provider);
                _exit(vcm_agent_serve(sv[1], sv[1]) == 0 ? 0 : 1);
        }
        close(sv[1]);
        p->fd = sv[0];
        agent_reader_init(&p->rd, p->fd, VCM_AGENT_LINE_MAX);
}

/* Close our end; the server must exit 0 at end of input. */
static void peer_stop(peer *p) {
        close(p->fd);
        int status;
        assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        agent_reader_done(&p->rd);
}

static void send_raw(peer *p, const char *data, size_t len) {
        while (len > 0) {
                ssize_t n = write(p->fd, data, len);
                assert_true(n > 0);
                data += n;
                len -= (size_t)n;
        }
}

static json_t *recv_reply(peer *p) {
        for (;;) {
                char *line;
                size_t len;
                int r = agent_reader_next(&p->rd, &line, &len);
                if (r == 1) {
                        json_error_t e;
                        json_t *j = json_loadb(line, len, 0, &e);
                        if (!j)
                                fail_msg("reply is not JSON: %s", line);
                        return j;
                }
                assert_int_equal(r, 0);
                assert_int_equal(agent_reader_fill(&p->rd), 1);
        }
}

/* Send one line (a newline is added), read one reply. */
static json_t *ask(peer *p, const char *line) {
        send_raw(p, line, strlen(line));
        send_raw(p, "\n", 1);
        return recv_reply(p);
}

static json_t *askf(peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *askf(peer *p, const char *fmt, ...) {
        char *s;
        va_list ap;
        va_start(ap, fmt);
        assert_true(vasprintf(&s, fmt, ap) >= 0);
        va_end(ap);
        json_t *r = ask(p, s);
        free(s);
        return r;
}

static bool is_ok(const json_t *rep) {
        return json_is_true(json_object_get(rep, "ok"));
}

/* An error reply with this errno whose message contains `needle`; host and provider present. */
static void assert_error(json_t *rep, int errnum, const char *needle) {
        if (is_ok(rep))
                fail_msg("expected an error, got %s", json_dumps(rep, 0));
        assert_int_equal(json_integer_value(json_object_get(rep, "v")), VCM_AGENT_PROTOCOL);
        const json_t *e = json_object_get(rep, "error");
        assert_int_equal(json_integer_value(json_object_get(e, "errno")), errnum);
        assert_non_null(json_string_value(json_object_get(e, "code")));
        assert_non_null(json_string_value(json_object_get(e, "host")));
        assert_non_null(json_object_get(e, "provider"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        assert_non_null(msg);
        if (!strstr(msg, needle))
                fail_msg("message '%s' lacks '%s'", msg, needle);
        json_decref(rep);
}

#define SITE_JSON                                                                                  \
        "{\"name\":\"lab\",\"network\":{\"backend\":\"vlan\",\"vlanFrom\":100,\"vlanTo\":199},"      \
        "\"storage\":{\"backend\":\"lvm-iscsi\"},\"hosts\":[{\"name\":\"gw1\",\"roles\":"           \
        "[\"gateway\",\"vm-server\"],\"trunk\":\"eth1\"},{\"name\":\"st1\",\"roles\":[\"storage\"]," \
        "\"volumeGroup\":\"vcm\"}]}"

static json_int_t open_session(peer *p, const char *host) {
        json_t *rep = askf(p, "{\"v\":1,\"id\":10,\"op\":\"open\",\"provider\":\"fakefs\",\"site\":"
                              SITE_JSON ",\"host\":\"%s\"}", host);
        assert_true(is_ok(rep));
        json_int_t s = json_integer_value(json_object_get(json_object_get(rep, "result"), "session"));
        assert_true(s > 0);
        json_decref(rep);
        return s;
}

static void test_handshake(void **state) {
        peer p;
        peer_start(&p);
        /* Nothing but hello before hello. */
        assert_error(ask(&p, "{\"v\":1,\"id\":1,\"op\":\"observe\",\"session\":1}"), EPROTO,
                     "send hello before 'observe'");
        /* Another protocol version is refused, with both versions named. */
        assert_error(ask(&p, "{\"v\":2,\"id\":2,\"op\":\"hello\"}"), EPROTONOSUPPORT,
                     "protocol version 2 not supported");
        assert_error(ask(&p, "{\"id\":3,\"op\":\"hello\"}"), EPROTONOSUPPORT, "version missing");
        json_t *rep = ask(&p, "{\"v\":1,\"id\":4,\"op\":\"hello\",\"host\":\"gw1\"}");
        assert_true(is_ok(rep));
        assert_int_equal(json_integer_value(json_object_get(rep, "id")), 4);
        const json_t *res = json_object_get(rep, "result");
        assert_int_equal(json_integer_value(json_object_get(res, "protocol")), VCM_AGENT_PROTOCOL);
        assert_string_equal(json_string_value(json_object_get(res, "agent")), "vcm");
        assert_string_equal(json_string_value(json_object_get(res, "host")), "gw1");
        assert_non_null(json_string_value(json_object_get(res, "version")));
        const json_t *prov = json_object_get(res, "providers");
        assert_int_equal(json_array_size(prov), 1);
        assert_string_equal(json_string_value(json_array_get(prov, 0)), "fakefs");
        json_decref(rep);
        /* Errors now name the host hello gave. */
        rep = ask(&p, "{\"v\":1,\"id\":5,\"op\":\"frobnicate\"}");
        assert_string_equal(json_string_value(json_object_get(json_object_get(rep, "error"), "host")),
                            "gw1");
        assert_error(rep, EOPNOTSUPP, "unknown op 'frobnicate'");
        peer_stop(&p);
}

static void test_ops_round_trip(void **state) {
        peer p;
        peer_start(&p);
        json_decref(ask(&p, "{\"v\":1,\"id\":1,\"op\":\"hello\",\"host\":\"gw1\"}"));
        json_int_t s = open_session(&p, "gw1");

        json_t *rep = askf(&p, "{\"v\":1,\"id\":11,\"op\":\"observe\",\"session\":%lld}", (long long)s);
        assert_true(is_ok(rep));
        assert_int_equal(json_array_size(json_object_get(json_object_get(rep, "result"), "resources")), 0);
        json_decref(rep);

        const char *res = "{\"kind\":\"bridge\",\"host\":\"gw1\",\"name\":\"vcmbr100\",\"cluster\":\"alpha\","
                          "\"props\":{\"netid\":\"100\",\"vlan-link\":\"vcmv100\"},\"hash\":\"00000000deadbeef\","
                          "\"deps\":[{\"kind\":\"vlan-link\",\"host\":\"gw1\",\"name\":\"vcmv100\"}]}";
        rep = askf(&p, "{\"v\":1,\"id\":12,\"op\":\"create\",\"session\":%lld,\"resource\":%s}",
                   (long long)s, res);
        assert_true(is_ok(rep));
        json_decref(rep);

        rep = askf(&p, "{\"v\":1,\"id\":13,\"op\":\"observe\",\"session\":%lld}", (long long)s);
        const json_t *list = json_object_get(json_object_get(rep, "result"), "resources");
        assert_int_equal(json_array_size(list), 1);
        const json_t *r0 = json_array_get(list, 0);
        assert_string_equal(json_string_value(json_object_get(r0, "kind")), "bridge");
        assert_string_equal(json_string_value(json_object_get(r0, "host")), "gw1");
        assert_string_equal(json_string_value(json_object_get(r0, "name")), "vcmbr100");
        assert_string_equal(json_string_value(json_object_get(r0, "cluster")), "alpha");
        assert_string_equal(json_string_value(json_object_get(r0, "hash")), "00000000deadbeef");
        assert_string_equal(json_string_value(json_object_get(json_object_get(r0, "props"), "netid")), "100");
        json_decref(rep);

        /* update needs the observed resource too. */
        assert_error(askf(&p, "{\"v\":1,\"id\":14,\"op\":\"update\",\"session\":%lld,\"resource\":%s}",
                          (long long)s, res),
                     EINVAL, "update: observed: a resource must be an object");
        rep = askf(&p, "{\"v\":1,\"id\":15,\"op\":\"update\",\"session\":%lld,\"resource\":%s,\"observed\":%s}",
                   (long long)s, res, res);
        assert_true(is_ok(rep));
        json_decref(rep);

        /* A provider's failure: its message (host, resource, cause) and errno, the provider's name. */
        rep = askf(&p, "{\"v\":1,\"id\":16,\"op\":\"create\",\"session\":%lld,\"resource\":"
                       "{\"kind\":\"bridge\",\"host\":\"gw1\",\"name\":\"failbr\",\"cluster\":\"alpha\",\"props\":{}}}",
                   (long long)s);
        assert_string_equal(json_string_value(json_object_get(json_object_get(rep, "error"), "provider")),
                            "fakefs");
        assert_error(rep, EIO, "gw1: create bridge failbr: injected failure");

        rep = askf(&p, "{\"v\":1,\"id\":17,\"op\":\"delete\",\"session\":%lld,\"resource\":%s}",
                   (long long)s, res);
        assert_true(is_ok(rep));
        json_decref(rep);
        rep = askf(&p, "{\"v\":1,\"id\":18,\"op\":\"observe\",\"session\":%lld}", (long long)s);
        assert_int_equal(json_array_size(json_object_get(json_object_get(rep, "result"), "resources")), 0);
        json_decref(rep);

        rep = askf(&p, "{\"v\":1,\"id\":19,\"op\":\"close\",\"session\":%lld}", (long long)s);
        assert_true(is_ok(rep));
        json_decref(rep);
        assert_error(askf(&p, "{\"v\":1,\"id\":20,\"op\":\"observe\",\"session\":%lld}", (long long)s),
                     EBADF, "no such session");
        peer_stop(&p);
}

static void test_open_errors(void **state) {
        peer p;
        peer_start(&p);
        json_decref(ask(&p, "{\"v\":1,\"id\":1,\"op\":\"hello\",\"host\":\"gw1\"}"));
        json_t *rep = ask(&p, "{\"v\":1,\"id\":2,\"op\":\"open\",\"provider\":\"lvm\",\"site\":" SITE_JSON
                              ",\"host\":\"gw1\"}");
        assert_string_equal(json_string_value(json_object_get(json_object_get(rep, "error"), "provider")),
                            "lvm");
        assert_error(rep, ENOENT, "agent on gw1: unknown provider 'lvm'");
        assert_error(ask(&p, "{\"v\":1,\"id\":3,\"op\":\"open\",\"provider\":\"fakefs\",\"site\":" SITE_JSON
                             ",\"host\":\"nope\"}"),
                     EINVAL, "'host' must name a host of the site");
        assert_error(ask(&p, "{\"v\":1,\"id\":3,\"op\":\"open\",\"provider\":\"fakefs\",\"site\":" SITE_JSON
                             ",\"host\":\"st1\"}"),
                     EINVAL, "agent on gw1: open: this agent serves gw1, not st1");
        assert_error(ask(&p, "{\"v\":1,\"id\":3,\"op\":\"hello\",\"host\":\"st1\"}"), EINVAL,
                     "hello: already serving host gw1");
        assert_error(ask(&p, "{\"v\":1,\"id\":4,\"op\":\"open\",\"provider\":\"fakefs\",\"site\":{\"name\":\"lab\","
                             "\"hosts\":[{\"name\":\"gw1\",\"roles\":[\"janitor\"]}]},\"host\":\"gw1\"}"),
                     EINVAL, "site.hosts[0]: unknown role");
        assert_error(ask(&p, "{\"v\":1,\"id\":5,\"op\":\"open\",\"provider\":\"fakefs\",\"site\":{\"name\":7},"
                             "\"host\":\"gw1\"}"),
                     EINVAL, "site: 'name' must be a string");
        assert_error(ask(&p, "{\"v\":1,\"id\":6,\"op\":\"open\",\"provider\":42}"), EINVAL,
                     "'provider' must be a string");
        json_int_t s = open_session(&p, "gw1");
        /* Bad resources are refused before any provider sees them. */
        assert_error(askf(&p, "{\"v\":1,\"id\":7,\"op\":\"create\",\"session\":%lld,\"resource\":"
                              "{\"kind\":\"gizmo\",\"host\":\"gw1\",\"name\":\"x\",\"cluster\":\"a\"}}", (long long)s),
                     EINVAL, "unknown kind 'gizmo'");
        assert_error(askf(&p, "{\"v\":1,\"id\":8,\"op\":\"create\",\"session\":%lld,\"resource\":"
                              "{\"kind\":\"bridge\",\"host\":\"gw1\",\"name\":\"x\",\"cluster\":\"a\",\"props\":{\"k\":1}}}",
                          (long long)s),
                     EINVAL, "props.k must be a string");
        assert_error(askf(&p, "{\"v\":1,\"id\":9,\"op\":\"create\",\"session\":%lld,\"resource\":"
                              "{\"kind\":\"bridge\",\"host\":\"gw1\",\"name\":\"x\",\"cluster\":\"a\",\"hash\":\"xyz\"}}",
                          (long long)s),
                     EINVAL, "'hash' must be 1 to 16 hex digits");
        assert_error(askf(&p, "{\"v\":1,\"id\":10,\"op\":\"delete\",\"session\":%lld}", (long long)s),
                     EINVAL, "a resource must be an object");
        peer_stop(&p);
}

/* Malformed lines: each gets one error reply (id null when it could not be read), the server
 * keeps serving, and a valid request after all of it still works. */
static void test_garbage_lines(void **state) {
        peer p;
        peer_start(&p);
        static const char *const bad[] = {
                "not json",
                "{",
                "}",
                "[1,2,3]",
                "\"a string\"",
                "42",
                "null",
                "{\"v\":1,\"id\":\"seven\",\"op\":\"hello\"}",
                "{\"v\":1,\"id\":1}",
                "{\"v\":1,\"id\":1,\"op\":17}",
                "{\"v\":1.0,\"id\":1,\"op\":\"hello\"}",
                "{\"v\":1,\"id\":1,\"op\":\"hello\",\"host\":[]}",
                "{\"v\":1,\"id\":1,\"op\":\"hello\",\"v\":1}",
                "{\"v\":1,\"id\":1,\"op\":\"open\"}\t{\"v\":1}",
                "\xff\xfe\x00\x01 binary",
                "{\"v\":1,\"id\":1,\"op\":\"h\xc3\x28llo\"}",
                "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        };
        json_decref(ask(&p, "{\"v\":1,\"id\":1,\"op\":\"hello\",\"host\":\"gw1\"}"));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                size_t len = i == 14 ? 11 : strlen(bad[i]); /* 14 has a NUL inside */
                send_raw(&p, bad[i], len);
                send_raw(&p, "\n", 1);
                json_t *rep = recv_reply(&p);
                if (is_ok(rep))
                        fail_msg("line %zu got an ok reply", i);
                assert_non_null(json_object_get(rep, "error"));
                json_decref(rep);
        }
        /* Random bytes and random mutations of valid requests, one reply per line. */
        static const char *const valid[] = {
                "{\"v\":1,\"id\":5,\"op\":\"hello\",\"host\":\"gw1\"}",
                "{\"v\":1,\"id\":6,\"op\":\"observe\",\"session\":1}",
                "{\"v\":1,\"id\":7,\"op\":\"open\",\"provider\":\"fakefs\",\"site\":" SITE_JSON ",\"host\":\"gw1\"}",
                "{\"v\":1,\"id\":8,\"op\":\"create\",\"session\":1,\"resource\":{\"kind\":\"bridge\",\"host\":"
                "\"gw1\",\"name\":\"b\",\"cluster\":\"c\",\"props\":{\"a\":\"b\"}}}",
        };
        unsigned seed = 12345;
        char line[2048];
        for (int n = 0; n < 3000; n++) {
                size_t len;
                if (n % 3 == 0) {
                        len = 1 + (size_t)rand_r(&seed) % 200;
                        for (size_t i = 0; i < len; i++)
                                line[i] = (char)(rand_r(&seed) % 256);
                } else {
                        const char *v = valid[(size_t)rand_r(&seed) % 4];
                        len = strlen(v);
                        memcpy(line, v, len);
                        for (int k = 0; k < 1 + rand_r(&seed) % 4; k++) {
                                size_t at = (size_t)rand_r(&seed) % len;
                                switch (rand_r(&seed) % 3) {
                                case 0: line[at] = (char)(rand_r(&seed) % 256); break;
                                case 1: len = at + 1; break;
                                default: line[at] = "{}[]\":,0x "[rand_r(&seed) % 11]; break;
                                }
                        }
                }
                /* Framing: no newline inside, and not blank (blank lines get no reply). */
                for (size_t i = 0; i < len; i++)
                        if (line[i] == '\n')
                                line[i] = '?';
                line[0] = line[0] == ' ' || line[0] == '\t' || line[0] == '\r' ? 'x' : line[0];
                send_raw(&p, line, len);
                send_raw(&p, "\n", 1);
                json_t *rep = recv_reply(&p);
                assert_non_null(json_object_get(rep, "ok"));
                json_decref(rep);
        }
        /* Blank lines are skipped; the next request is answered. */
        send_raw(&p, "\n  \n\r\n", 6);
        json_t *rep = ask(&p, "{\"v\":1,\"id\":99,\"op\":\"hello\",\"host\":\"gw1\"}");
        assert_true(is_ok(rep));
        assert_int_equal(json_integer_value(json_object_get(rep, "id")), 99);
        json_decref(rep);
        /* A last request without its newline is still answered at end of input. */
        const char *last = "{\"v\":1,\"id\":100,\"op\":\"hello\"}";
        send_raw(&p, last, strlen(last));
        shutdown(p.fd, SHUT_WR);
        rep = recv_reply(&p);
        if (json_integer_value(json_object_get(rep, "id")) != 100)
                fail_msg("reply to the last line: %s", json_dumps(rep, 0));
        json_decref(rep);
        peer_stop(&p);
}

/* The reader drops an overlong line whole and reports it once; lines around it survive. */
static void test_line_limit(void **state) {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        agent_reader rd;
        agent_reader_init(&rd, sv[0], 16);
        const char *in = "short\n0123456789abcdef0123456789abcdef0123456789\nnext\n0123456789abcdef\n";
        assert_int_equal(write(sv[1], in, strlen(in)), (ssize_t)strlen(in));
        close(sv[1]);
        const char *want[] = { "short", NULL, "next", "0123456789abcdef" };
        size_t got = 0;
        for (;;) {
                char *line;
                size_t len;
                int r = agent_reader_next(&rd, &line, &len);
                if (r == 0) {
                        if (agent_reader_fill(&rd) == 0 && agent_reader_next(&rd, &line, &len) == 0)
                                break;
                        continue;
                }
                assert_true(got < 4);
                if (want[got]) {
                        assert_int_equal(r, 1);
                        assert_string_equal(line, want[got]);
                } else {
                        assert_int_equal(r, -E2BIG);
                }
                got++;
        }
        assert_int_equal(got, 4);
        agent_reader_done(&rd);
        close(sv[0]);
}

/* A site survives the trip: every field a host-side provider may read. */
static void test_site_codec(void **state) {
        vcm_host hosts[2] = {
                { .name = "gw1", .roles = VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER,
                  .libvirt = "qemu+ssh://root@gw1/system", .capacity_vcpus = 32,
                  .capacity_memory = UINT64_C(137438953472), .trunk = "eth1", .external = "br-ext",
                  .domain_type = VCM_DOMAIN_TYPE_QEMU },
                { .name = "st1", .roles = VCM_ROLE_STORAGE, .volume_group = "vcm",
                  .portal = "192.0.2.10:3260", .capacity_storage = UINT64_C(1099511627776) },
        };
        char *argv[] = { "ssh", "root@gw1", "vcm", "agent", NULL };
        hosts[0].agent = argv;
        hosts[0].n_agent = 4;
        vcm_image images[1] = { { .appliance = "compute", .volume = "img-compute" } };
        vcm_site site = { .name = "lab", .file = "site.yaml", .network_backend = VCM_NET_BRIDGE,
                          .vlan_from = 100, .vlan_to = 999, .storage_backend = VCM_STORAGE_LVM,
                          .hosts = hosts, .n_hosts = 2, .images = images, .n_images = 1 };
        json_t *j = agent_json_site(&site);
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        j = json_loads(text, 0, NULL);
        free(text);
        vcm_repo *repo = NULL;
        char why[256];
        assert_int_equal(agent_site_from_json(j, &repo, why, sizeof(why)), 0);
        const vcm_site *s = repo->site;
        json_decref(j);
        assert_string_equal(s->name, "lab");
        assert_int_equal(s->network_backend, VCM_NET_BRIDGE);
        assert_int_equal(s->storage_backend, VCM_STORAGE_LVM);
        assert_int_equal(s->vlan_from, 100);
        assert_int_equal(s->vlan_to, 999);
        assert_int_equal(s->n_hosts, 2);
        assert_string_equal(s->hosts[0].name, "gw1");
        assert_int_equal(s->hosts[0].roles, VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER);
        assert_string_equal(s->hosts[0].libvirt, "qemu+ssh://root@gw1/system");
        assert_int_equal(s->hosts[0].n_agent, 4);
        assert_string_equal(s->hosts[0].agent[3], "agent");
        assert_null(s->hosts[0].agent[4]);
        assert_int_equal(s->hosts[0].capacity_memory, UINT64_C(137438953472));
        assert_string_equal(s->hosts[0].trunk, "eth1");
        assert_string_equal(s->hosts[0].external, "br-ext");
        assert_int_equal(s->hosts[0].domain_type, VCM_DOMAIN_TYPE_QEMU);
        assert_null(s->hosts[1].agent);
        assert_string_equal(s->hosts[1].volume_group, "vcm");
        assert_string_equal(s->hosts[1].portal, "192.0.2.10:3260");
        assert_int_equal(s->hosts[1].capacity_storage, UINT64_C(1099511627776));
        assert_int_equal(s->n_images, 1);
        assert_string_equal(s->images[0].volume, "img-compute");
        vcm_repo_free(repo);
}

static void test_resource_codec(void **state) {
        vcm_resource_set *a = vcm_resource_set_new();
        vcm_resource *r = vcm_resource_set_put(a, VCM_KIND_VOLUME, "st1", "alpha-frontend", "alpha");
        vcm_resource_set_prop(r, "size", "10737418240");
        vcm_resource_set_prop(r, "note", "caf\xc3\xa9 \"quoted\"\nnewline");
        vcm_resource_add_dep(r, VCM_KIND_BRIDGE, "gw1", "vcmbr100");
        r->hash = UINT64_C(0xfedcba9876543210);
        json_t *j = agent_json_resource(r);
        vcm_resource_set *b = vcm_resource_set_new();
        char why[256];
        assert_int_equal(agent_resource_from_json(j, b, "resource", why, sizeof(why)), 0);
        assert_int_equal(agent_resource_from_json(j, b, "resource", why, sizeof(why)), -EEXIST);
        json_decref(j);
        const vcm_resource *x = vcm_resource_set_find(b, VCM_KIND_VOLUME, "st1", "alpha-frontend");
        assert_non_null(x);
        assert_string_equal(x->cluster, "alpha");
        assert_int_equal(x->n_props, 2);
        assert_string_equal(vcm_resource_prop(x, "note"), "caf\xc3\xa9 \"quoted\"\nnewline");
        assert_true(x->hash == UINT64_C(0xfedcba9876543210));
        assert_int_equal(x->n_deps, 1);
        assert_string_equal(x->deps[0].name, "vcmbr100");
        /* Bytes that are not UTF-8 (a command's output in a message) still make a JSON string. */
        json_t *s = agent_json_str("bad \xff byte");
        assert_string_equal(json_string_value(s), "bad ? byte");
        json_decref(s);
        vcm_resource_set_free(a);
        vcm_resource_set_free(b);
}

int main(void) {
        /* A server child that dies early must fail the test, not kill it. */
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_handshake),
                cmocka_unit_test(test_ops_round_trip),
                cmocka_unit_test(test_open_errors),
                cmocka_unit_test(test_garbage_lines),
                cmocka_unit_test(test_line_limit),
                cmocka_unit_test(test_site_codec),
                cmocka_unit_test(test_resource_codec),
        };
        return cmocka_run_group_tests(tests, af_world_make, af_world_remove);
}
