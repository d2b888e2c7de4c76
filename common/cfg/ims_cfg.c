/* YAML configuration tree (libyaml event API) and typed getters. */
#include "cfg/ims_cfg.h"
#include "base/ims_arena.h"
#include "base/ims_err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

enum { N_SCALAR, N_MAP, N_LIST };

typedef struct node node_t;
struct node {
	int type;
	int line;           /* 1-based line in the file */
	const char *key;    /* key when a mapping value */
	const char *val;    /* scalar text */
	int is_null;        /* plain "", "~" or "null": the key takes its default */
	node_t *first, *last, *next;
	int count;
};

struct ims_cfg {
	ims_arena_t *arena;
	node_t *root;
	const char *name;
	const char *const *also_known;
	char err[320];
};

#define MAX_DEPTH 64

static const char *type_name(int t)
{
	return t == N_MAP ? "a mapping" : t == N_LIST ? "a list" : "a scalar";
}

static void set_err(ims_cfg_t *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(ims_cfg_t *cfg, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cfg->err, sizeof(cfg->err), fmt, ap);
	va_end(ap);
}

/* ---- loading ---- */

typedef struct {
	yaml_parser_t p;
	ims_cfg_t *cfg;
	char *err;
	size_t errlen;
	int failed;
} loader_t;

static void load_err(loader_t *l, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void load_err(loader_t *l, int line, const char *fmt, ...)
{
	if (l->failed)
		return;
	l->failed = 1;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->err && l->errlen)
		snprintf(l->err, l->errlen, "%s:%d: %s", l->cfg->name, line, msg);
}

static int next_event(loader_t *l, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&l->p, ev)) {
		int line = (int)l->p.problem_mark.line + 1;
		/* libyaml's problem text is the useful part ("mapping values are
		 * not allowed in this context"); its context names the parser state */
		load_err(l, line, "%s", l->p.problem ? l->p.problem : "YAML syntax error");
		return -1;
	}
	return 0;
}

static node_t *new_node(loader_t *l, int type, int line)
{
	node_t *n = ims_arena_zalloc(l->cfg->arena, sizeof(*n));
	if (!n) {
		load_err(l, line, "out of memory");
		return NULL;
	}
	n->type = type;
	n->line = line;
	return n;
}

static void append(node_t *parent, node_t *child)
{
	if (parent->last)
		parent->last->next = child;
	else
		parent->first = child;
	parent->last = child;
	parent->count++;
}

static const char *dup_text(loader_t *l, const yaml_char_t *s, size_t n, int line)
{
	char *c = ims_arena_memdup(l->cfg->arena, s, n);
	if (!c)
		load_err(l, line, "out of memory");
	return c;
}

static node_t *parse_node(loader_t *l, yaml_event_t *ev, int depth);

/* Consumes events up to and including the end of the collection that
 * `ev` started. */
static node_t *parse_collection(loader_t *l, yaml_event_t *start, int depth)
{
	int is_map = start->type == YAML_MAPPING_START_EVENT;
	int line = (int)start->start_mark.line + 1;
	if (depth > MAX_DEPTH) {
		load_err(l, line, "nesting deeper than %d levels", MAX_DEPTH);
		return NULL;
	}
	node_t *n = new_node(l, is_map ? N_MAP : N_LIST, line);
	if (!n)
		return NULL;
	for (;;) {
		yaml_event_t ev;
		if (next_event(l, &ev))
			return NULL;
		if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return n;
		}
		if (!is_map) {
			node_t *item = parse_node(l, &ev, depth + 1);
			yaml_event_delete(&ev);
			if (!item)
				return NULL;
			append(n, item);
			continue;
		}
		/* a mapping: a scalar key, then its value */
		int kline = (int)ev.start_mark.line + 1;
		if (ev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&ev);
			load_err(l, kline, "mapping keys must be scalars");
			return NULL;
		}
		const char *key = dup_text(l, ev.data.scalar.value, ev.data.scalar.length, kline);
		yaml_event_delete(&ev);
		if (!key)
			return NULL;
		if (!key[0] || strpbrk(key, ".[]")) {
			load_err(l, kline, "bad key \"%s\" (empty, or contains '.', '[' or ']')", key);
			return NULL;
		}
		for (node_t *c = n->first; c; c = c->next) {
			if (strcmp(c->key, key) == 0) {
				load_err(l, kline, "duplicate key %s (first at line %d)", key, c->line);
				return NULL;
			}
		}
		if (next_event(l, &ev))
			return NULL;
		node_t *val = parse_node(l, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (!val)
			return NULL;
		val->key = key;
		val->line = kline;
		append(n, val);
	}
}

static node_t *parse_node(loader_t *l, yaml_event_t *ev, int depth)
{
	int line = (int)ev->start_mark.line + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		node_t *n = new_node(l, N_SCALAR, line);
		if (!n)
			return NULL;
		n->val = dup_text(l, ev->data.scalar.value, ev->data.scalar.length, line);
		if (!n->val)
			return NULL;
		/* YAML 1.2 core schema nulls, only when unquoted */
		if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (!n->val[0] || strcmp(n->val, "~") == 0 || strcmp(n->val, "null") == 0 ||
		     strcmp(n->val, "Null") == 0 || strcmp(n->val, "NULL") == 0))
			n->is_null = 1;
		return n;
	}
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		return parse_collection(l, ev, depth);
	case YAML_ALIAS_EVENT:
		load_err(l, line, "YAML aliases are not supported");
		return NULL;
	default:
		load_err(l, line, "unexpected YAML event");
		return NULL;
	}
}

static ims_cfg_t *cfg_new(const char *name)
{
	ims_cfg_t *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	cfg->arena = ims_arena_create(4096);
	if (!cfg->arena) {
		free(cfg);
		return NULL;
	}
	ims_str_t nm;
	if (ims_arena_strdup(cfg->arena, ims_str_cstr(name ? name : ""), &nm)) {
		ims_cfg_free(cfg);
		return NULL;
	}
	cfg->name = nm.s;
	cfg->root = ims_arena_zalloc(cfg->arena, sizeof(node_t));
	if (!cfg->root) {
		ims_cfg_free(cfg);
		return NULL;
	}
	cfg->root->type = N_MAP;
	cfg->root->line = 1;
	return cfg;
}

ims_cfg_t *ims_cfg_empty(void)
{
	return cfg_new("");
}

/* Reads the stream: STREAM-START, then zero or one document whose root
 * is a mapping, then STREAM-END. */
static int load_stream(loader_t *l)
{
	yaml_event_t ev;
	if (next_event(l, &ev))
		return -1;
	yaml_event_delete(&ev); /* stream start */
	if (next_event(l, &ev))
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0; /* empty file: empty mapping */
	}
	yaml_event_delete(&ev); /* document start */
	if (next_event(l, &ev))
		return -1;
	int line = (int)ev.start_mark.line + 1;
	if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length == 0) {
		yaml_event_delete(&ev); /* a document with nothing in it */
	} else if (ev.type != YAML_MAPPING_START_EVENT) {
		yaml_event_delete(&ev);
		load_err(l, line, "the top level must be a mapping of keys");
		return -1;
	} else {
		node_t *root = parse_collection(l, &ev, 0);
		yaml_event_delete(&ev);
		if (!root)
			return -1;
		l->cfg->root = root;
	}
	if (next_event(l, &ev))
		return -1;
	yaml_event_delete(&ev); /* document end */
	if (next_event(l, &ev))
		return -1;
	int more = ev.type != YAML_STREAM_END_EVENT;
	line = (int)ev.start_mark.line + 1;
	yaml_event_delete(&ev);
	if (more) {
		load_err(l, line, "only one YAML document is allowed");
		return -1;
	}
	return 0;
}

ims_cfg_t *ims_cfg_parse(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	ims_cfg_t *cfg = cfg_new(name ? name : "<config>");
	if (!cfg) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name ? name : "<config>");
		return NULL;
	}
	loader_t l = { .cfg = cfg, .err = err, .errlen = errlen };
	if (!yaml_parser_initialize(&l.p)) {
		snprintf(err, errlen, "%s: out of memory", cfg->name);
		ims_cfg_free(cfg);
		return NULL;
	}
	yaml_parser_set_input_string(&l.p, (const unsigned char *)text, len);
	int rc = load_stream(&l);
	yaml_parser_delete(&l.p);
	if (rc) {
		ims_cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

ims_cfg_t *ims_cfg_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			fclose(f);
			if (err && errlen)
				snprintf(err, errlen, "%s: out of memory", path);
			return NULL;
		}
		len += fread(buf + len, 1, cap - len, f);
		if (len < cap)
			break;
		if (cap >= (16u << 20)) {
			fclose(f);
			free(buf);
			if (err && errlen)
				snprintf(err, errlen, "%s: larger than 16 MiB", path);
			return NULL;
		}
		char *nb = realloc(buf, cap * 2);
		if (!nb)
			free(buf);
		buf = nb;
		cap *= 2;
	}
	int ioerr = ferror(f);
	fclose(f);
	if (ioerr) {
		free(buf);
		if (err && errlen)
			snprintf(err, errlen, "%s: read error", path);
		return NULL;
	}
	ims_cfg_t *cfg = ims_cfg_parse(buf, len, path, err, errlen);
	free(buf);
	return cfg;
}

void ims_cfg_free(ims_cfg_t *cfg)
{
	if (!cfg)
		return;
	ims_arena_destroy(cfg->arena);
	free(cfg);
}

const char *ims_cfg_error(const ims_cfg_t *cfg)
{
	return cfg ? cfg->err : "";
}

const char *ims_cfg_name(const ims_cfg_t *cfg)
{
	return cfg ? cfg->name : "";
}

/* ---- lookups ---- */

/* Walks "a.b[2].c". Returns the node, or NULL when absent (or the path
 * is malformed: *bad set). */
static node_t *lookup(ims_cfg_t *cfg, const char *path, int *bad)
{
	node_t *n = cfg->root;
	const char *p = path;
	*bad = 0;
	if (!p || !*p) {
		*bad = 1;
		return NULL;
	}
	while (*p) {
		if (*p != '[') {
			size_t len = strcspn(p, ".[");
			if (len == 0) {
				*bad = 1;
				return NULL;
			}
			if (!n || n->type != N_MAP)
				return NULL;
			node_t *c = n->first;
			while (c && !(strlen(c->key) == len && memcmp(c->key, p, len) == 0))
				c = c->next;
			n = c;
			p += len;
		}
		while (*p == '[') {
			char *end;
			errno = 0;
			long idx = strtol(p + 1, &end, 10);
			if (end == p + 1 || *end != ']' || idx < 0 || errno) {
				*bad = 1;
				return NULL;
			}
			p = end + 1;
			if (!n || n->type != N_LIST)
				return NULL;
			node_t *c = n->first;
			for (long i = 0; c && i < idx; i++)
				c = c->next;
			n = c;
		}
		if (*p == '.') {
			p++;
			if (!*p) {
				*bad = 1;
				return NULL;
			}
		} else if (*p) {
			*bad = 1;
			return NULL;
		}
	}
	return n;
}

/* IMS_CFG_ + the path upper-cased, other characters as one '_'. */
static const char *env_for(const char *path, char *name, size_t cap)
{
	size_t o = (size_t)snprintf(name, cap, "IMS_CFG_");
	int under = 1;
	for (const char *p = path; *p && o + 1 < cap; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c)) {
			name[o++] = (char)toupper(c);
			under = 0;
		} else if (!under) {
			name[o++] = '_';
			under = 1;
		}
	}
	while (o > 8 && name[o - 1] == '_')
		o--;
	name[o] = '\0';
	return getenv(name);
}

/* Finds the scalar text at path. Returns 1 with *val (and *where for
 * messages), 0 when absent, IMS_ECONFIG when not a scalar. */
static int scalar_at(ims_cfg_t *cfg, const char *path, const char **val, char *where, size_t wcap)
{
	char env[160];
	const char *e = env_for(path, env, sizeof(env));
	if (e) {
		*val = e;
		snprintf(where, wcap, "from %s", env);
		return 1;
	}
	int bad;
	node_t *n = lookup(cfg, path, &bad);
	if (bad) {
		set_err(cfg, "%s: malformed configuration path", path ? path : "(null)");
		return IMS_EINVAL;
	}
	if (!n || (n->type == N_SCALAR && n->is_null))
		return 0;
	if (n->type != N_SCALAR) {
		set_err(cfg, "%s: expected a value, found %s (%s:%d)", path, type_name(n->type),
			cfg->name, n->line);
		return IMS_ECONFIG;
	}
	*val = n->val;
	snprintf(where, wcap, "%s:%d", cfg->name, n->line);
	return 1;
}

int ims_cfg_has(ims_cfg_t *cfg, const char *path)
{
	char env[160];
	if (env_for(path, env, sizeof(env)))
		return 1;
	int bad;
	return lookup(cfg, path, &bad) != NULL;
}

int ims_cfg_str(ims_cfg_t *cfg, const char *path, const char *def, const char **out)
{
	const char *v;
	char where[200];
	int rc = scalar_at(cfg, path, &v, where, sizeof(where));
	if (rc < 0)
		return rc;
	if (rc == 0) {
		if (!def) {
			set_err(cfg, "%s: required key is missing", path);
			return IMS_ECONFIG;
		}
		*out = def;
		return 0;
	}
	*out = v;
	return 0;
}

int ims_cfg_int(ims_cfg_t *cfg, const char *path, long def, long min, long max, long *out)
{
	const char *v;
	char where[200];
	int rc = scalar_at(cfg, path, &v, where, sizeof(where));
	if (rc < 0)
		return rc;
	if (rc == 0) {
		*out = def;
		return 0;
	}
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (end == v || *end || errno || isspace((unsigned char)v[0])) {
		set_err(cfg, "%s: \"%s\" is not an integer (%s)", path, v, where);
		return IMS_ECONFIG;
	}
	if (x < min || x > max) {
		set_err(cfg, "%s: %ld is out of range %ld..%ld (%s)", path, x, min, max, where);
		return IMS_ECONFIG;
	}
	*out = x;
	return 0;
}

int ims_cfg_double(ims_cfg_t *cfg, const char *path, double def, double min, double max, double *out)
{
	const char *v;
	char where[200];
	int rc = scalar_at(cfg, path, &v, where, sizeof(where));
	if (rc < 0)
		return rc;
	if (rc == 0) {
		*out = def;
		return 0;
	}
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (end == v || *end || errno || !isfinite(x) || isspace((unsigned char)v[0])) {
		set_err(cfg, "%s: \"%s\" is not a number (%s)", path, v, where);
		return IMS_ECONFIG;
	}
	if (x < min || x > max) {
		set_err(cfg, "%s: %g is out of range %g..%g (%s)", path, x, min, max, where);
		return IMS_ECONFIG;
	}
	*out = x;
	return 0;
}

int ims_cfg_bool(ims_cfg_t *cfg, const char *path, int def, int *out)
{
	static const char *yes[] = { "true", "yes", "on", "1" };
	static const char *no[] = { "false", "no", "off", "0" };
	const char *v;
	char where[200];
	int rc = scalar_at(cfg, path, &v, where, sizeof(where));
	if (rc < 0)
		return rc;
	if (rc == 0) {
		*out = def ? 1 : 0;
		return 0;
	}
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	set_err(cfg, "%s: \"%s\" is not a boolean (true/false) (%s)", path, v, where);
	return IMS_ECONFIG;
}

int ims_cfg_list_len(ims_cfg_t *cfg, const char *path)
{
	int bad;
	node_t *n = lookup(cfg, path, &bad);
	if (bad) {
		set_err(cfg, "%s: malformed configuration path", path ? path : "(null)");
		return IMS_EINVAL;
	}
	if (!n)
		return 0;
	if (n->type != N_LIST) {
		set_err(cfg, "%s: expected a list, found %s (%s:%d)", path, type_name(n->type),
			cfg->name, n->line);
		return IMS_ECONFIG;
	}
	return n->count;
}

int ims_cfg_map_len(ims_cfg_t *cfg, const char *path)
{
	int bad;
	node_t *n = lookup(cfg, path, &bad);
	if (bad) {
		set_err(cfg, "%s: malformed configuration path", path ? path : "(null)");
		return IMS_EINVAL;
	}
	if (!n)
		return 0;
	if (n->type != N_MAP) {
		set_err(cfg, "%s: expected a mapping, found %s (%s:%d)", path, type_name(n->type),
			cfg->name, n->line);
		return IMS_ECONFIG;
	}
	return n->count;
}

const char *ims_cfg_map_key(ims_cfg_t *cfg, const char *path, int i)
{
	int bad;
	node_t *n = lookup(cfg, path, &bad);
	if (bad || !n || n->type != N_MAP || i < 0)
		return NULL;
	node_t *c = n->first;
	while (c && i-- > 0)
		c = c->next;
	return c ? c->key : NULL;
}

/* ---- unknown keys ---- */

static int pattern_match(const char *pat, const char *path)
{
	size_t pl = strlen(pat);
	if (pl >= 2 && strcmp(pat + pl - 2, ".*") == 0) {
		size_t pre = pl - 2;
		return strncmp(path, pat, pre) == 0 &&
		       (path[pre] == '\0' || path[pre] == '.' || path[pre] == '[');
	}
	if (strncmp(pat, path, pl) != 0)
		return 0;
	/* "icscf" also names the scalar items of the list icscf ("icscf[]") */
	for (const char *r = path + pl; *r; r += 2)
		if (r[0] != '[' || r[1] != ']')
			return 0;
	return 1;
}

static int known(const char *const *known_paths, const char *path)
{
	for (const char *const *k = known_paths; k && *k; k++)
		if (pattern_match(*k, path))
			return 1;
	return 0;
}

/* Depth-first over leaves; buf holds the normalised path so far. */
static node_t *find_unknown(const ims_cfg_t *cfg, node_t *n, const char *const *known_paths,
			    char *buf, size_t cap, size_t len)
{
	if (n->type == N_SCALAR || n->count == 0)
		return known(known_paths, buf) || known(cfg->also_known, buf) ? NULL : n;
	for (node_t *c = n->first; c; c = c->next) {
		int w;
		if (n->type == N_MAP)
			w = snprintf(buf + len, cap - len, "%s%s", len ? "." : "", c->key);
		else
			w = snprintf(buf + len, cap - len, "[]");
		if (w < 0 || (size_t)w >= cap - len)
			return c; /* absurdly long path: report it */
		node_t *bad = find_unknown(cfg, c, known_paths, buf, cap, len + (size_t)w);
		if (bad)
			return bad;
		buf[len] = '\0';
	}
	return NULL;
}

int ims_cfg_check_known(ims_cfg_t *cfg, const char *const *known_paths, char *err, size_t errlen)
{
	char buf[512];
	buf[0] = '\0';
	if (cfg->root->count == 0)
		return 0; /* an empty config sets nothing */
	node_t *bad = find_unknown(cfg, cfg->root, known_paths, buf, sizeof(buf), 0);
	if (!bad)
		return 0;
	set_err(cfg, "%s:%d: unknown key %s", cfg->name, bad->line, buf);
	if (err && errlen)
		snprintf(err, errlen, "%s", cfg->err);
	return IMS_ECONFIG;
}

void ims_cfg_also_known(ims_cfg_t *cfg, const char *const *paths)
{
	cfg->also_known = paths;
}
