/* Reading lvm2's JSON reports (`lvs`/`vgs --reportformat json --units b --nosuffix`). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvm.h"
#include "reconciler/props.h"
#include "reconciler/util.h"

void lvm_lvs_free(lvm_lv *lvs, size_t n) {
        if (!lvs)
                return;
        for (size_t i = 0; i < n; i++) {
                free(lvs[i].name);
                free(lvs[i].vg);
                free(lvs[i].uuid);
                free(lvs[i].path);
                free(lvs[i].attr);
                strv_free(lvs[i].tags);
        }
        free(lvs);
}

/* A report number: "123" (2.03.16) or 123 (json_std); "" (no value) reads as 0. */
static int get_u64(json_t *row, const char *key, uint64_t *ret) {
        json_t *v = json_object_get(row, key);
        if (!v) {
                *ret = 0;
                return 0;
        }
        if (json_is_integer(v) && json_integer_value(v) >= 0) {
                *ret = (uint64_t)json_integer_value(v);
                return 0;
        }
        if (!json_is_string(v))
                return -EBADMSG;
        const char *s = json_string_value(v);
        if (!*s) {
                *ret = 0;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long long n = strtoull(s, &end, 10);
        if (errno || *end || *s == '-')
                return -EBADMSG;
        *ret = n;
        return 0;
}

static char *get_str(json_t *row, const char *key) {
        const char *s = json_string_value(json_object_get(row, key));
        return xstrdup(s ? s : "");
}

/* "a,b,c" (2.03.16) or ["a","b","c"] (json_std). */
static char **get_tags(json_t *row) {
        json_t *v = json_object_get(row, "lv_tags");
        size_t n = 0;
        char **tags = xcalloc(1, sizeof(char *));
        if (json_is_array(v)) {
                size_t i;
                json_t *t;
                json_array_foreach(v, i, t) {
                        if (!json_is_string(t))
                                continue;
                        tags = xrealloc(tags, (n + 2) * sizeof(char *));
                        tags[n++] = xstrdup(json_string_value(t));
                        tags[n] = NULL;
                }
        } else if (json_is_string(v)) {
                const char *s = json_string_value(v);
                while (*s) {
                        size_t len = strcspn(s, ",");
                        if (len) {
                                tags = xrealloc(tags, (n + 2) * sizeof(char *));
                                tags[n++] = strndup(s, len);
                                tags[n] = NULL;
                        }
                        s += len;
                        if (*s == ',')
                                s++;
                }
        }
        return tags;
}

static json_t *report_rows(json_t *root, const char *key) {
        json_t *reports = json_object_get(root, "report");
        if (!json_is_array(reports))
                return NULL;
        /* One report per VG asked for; all rows of one kind are under `key`. */
        json_t *rows = json_array();
        size_t i;
        json_t *rep;
        json_array_foreach(reports, i, rep) {
                json_t *part = json_object_get(rep, key);
                if (json_is_array(part))
                        json_array_extend(rows, part);
        }
        return rows;
}

int lvm_report_parse_lvs(const char *json, lvm_lv **ret, size_t *ret_n, vcm_error *err) {
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *root = json_loads(json, 0, &jerr);
        if (!root) {
                vcm_error_set(err, "lvs report is not JSON (line %d: %s)", jerr.line, jerr.text);
                return -EBADMSG;
        }
        _cleanup_(json_decrefp) json_t *rows = report_rows(root, "lv");
        if (!rows) {
                vcm_error_set(err, "lvs report has no \"report\" array");
                return -EBADMSG;
        }
        size_t n = json_array_size(rows);
        lvm_lv *lvs = xcalloc(n ? n : 1, sizeof(*lvs));
        for (size_t i = 0; i < n; i++) {
                json_t *row = json_array_get(rows, i);
                lvm_lv *lv = &lvs[i];
                lv->name = get_str(row, "lv_name");
                lv->vg = get_str(row, "vg_name");
                lv->uuid = get_str(row, "lv_uuid");
                lv->path = get_str(row, "lv_path");
                lv->attr = get_str(row, "lv_attr");
                lv->tags = get_tags(row);
                if (!json_is_object(row) || !*lv->name ||
                    get_u64(row, "lv_size", &lv->size) < 0 ||
                    get_u64(row, "vg_free", &lv->vg_free) < 0 ||
                    get_u64(row, "vg_extent_size", &lv->extent) < 0) {
                        vcm_error_set(err, "lvs report row %zu: missing lv_name or a size that "
                                      "is not a number of bytes", i);
                        lvm_lvs_free(lvs, n);
                        return -EBADMSG;
                }
        }
        *ret = lvs;
        *ret_n = n;
        return 0;
}

int lvm_report_parse_vg(const char *json, const char *vg, lvm_vg *ret, vcm_error *err) {
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *root = json_loads(json, 0, &jerr);
        if (!root) {
                vcm_error_set(err, "vgs report is not JSON (line %d: %s)", jerr.line, jerr.text);
                return -EBADMSG;
        }
        _cleanup_(json_decrefp) json_t *rows = report_rows(root, "vg");
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
                const char *name = json_string_value(json_object_get(row, "vg_name"));
                if (!name || strcmp(name, vg) != 0)
                        continue;
                lvm_vg v = { 0 };
                snprintf(v.name, sizeof(v.name), "%s", name);
                if (get_u64(row, "vg_size", &v.size) < 0 || get_u64(row, "vg_free", &v.free) < 0 ||
                    get_u64(row, "vg_extent_size", &v.extent) < 0) {
                        vcm_error_set(err, "vgs report: sizes of %s are not numbers of bytes", vg);
                        return -EBADMSG;
                }
                *ret = v;
                return 0;
        }
        vcm_error_set(err, "volume group %s is not in the vgs report", vg);
        return -ENOENT;
}

const char *lvm_lv_tag(const lvm_lv *lv, const char *prefix) {
        size_t pl = strlen(prefix);
        for (char **t = lv->tags; t && *t; t++)
                if (strncmp(*t, prefix, pl) == 0)
                        return *t + pl;
        return NULL;
}

bool lvm_tag_valid(const char *s) {
        if (!s || !*s || strlen(s) > 1024)
                return false;
        for (; *s; s++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                            "_+.-/=!:#&", *s))
                        return false;
        return true;
}

int lvm_lv_to_resource(const lvm_lv *lv, const char *host, vcm_resource_set *out) {
        const char *cluster = lvm_lv_tag(lv, VCM_LVM_TAG_CLUSTER);
        if (!cluster || !*cluster)
                return 0;
        vcm_resource *r = vcm_resource_set_put(out, VCM_KIND_VOLUME, host, lv->name, cluster);
        if (!r)
                return -EEXIST;
        /* LVM rounds up to whole extents: within one extent of what was asked, the ask. */
        uint64_t size = lv->size, asked = 0;
        const char *t = lvm_lv_tag(lv, VCM_LVM_TAG_SIZE);
        if (t) {
                char *end;
                asked = strtoull(t, &end, 10);
                if (*end)
                        asked = 0;
        }
        uint64_t extent = lv->extent ? lv->extent : 4ull << 20;
        if (asked && size >= asked && size - asked < extent)
                size = asked;
        vcm_resource_set_propf(r, "size", "%llu", (unsigned long long)size);
        vcm_resource_set_prop(r, "backend", "lvm");
        vcm_resource_set_prop(r, "pool", lv->vg);
        const char *clone = lvm_lv_tag(lv, VCM_LVM_TAG_CLONE);
        const char *copying = lvm_lv_tag(lv, VCM_LVM_TAG_COPYING);
        if (clone)
                vcm_resource_set_prop(r, "clone", clone);
        else if (copying) /* a crash mid-copy: classify() replaces it */
                vcm_resource_set_propf(r, "clone", "incomplete:%s", copying);
        vcm_resource_rehash(r);
        return 0;
}
