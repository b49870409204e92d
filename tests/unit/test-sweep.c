/* Search spaces, strategies and trials files (src/lib/space.c, strategy.c, trialsfile.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/sweep/sweep.h"
#include "store-fixture.h"

/* The values a spec expands to, as compact JSON. */
static char *values_of(const char *spec)
{
	tally_dim d;
	if (tally__dim_parse(&d, "x", spec))
		return NULL;
	char *text = json_dumps(d.values, JSON_COMPACT | JSON_ENCODE_ANY | TALLY_JSON_REALS);
	tally__dim_release(&d);
	return text;
}

static void assert_values(const char *spec, const char *want)
{
	char *got = values_of(spec);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void lists_and_finite_functions(void **state)
{
	(void)state;
	assert_values("[1, 2.5, relu, 'a,b', \"007\", true]", "[1,2.5,\"relu\",\"a,b\",\"007\",true]");
	assert_values("choice[relu,tanh]", "[\"relu\",\"tanh\"]");
	assert_values("range[1:10:3]", "[1,4,7,10]");
	assert_values("range[1:3]", "[1,2,3]");
	assert_values("range[0:1:0.25]", "[0.0,0.25,0.5,0.75,1.0]");
	assert_values("range[0:0.3:0.1]", "[0.0,0.1,0.2,0.3]"); /* no 0.30000000000000004, and the end is in */
	assert_values("range[5:1:-2]", "[5,3,1]");
	assert_values("range[1000000000000:1000000000002]", "[1000000000000,1000000000001,1000000000002]");
	assert_values("linspace[0:1:5]", "[0.0,0.25,0.5,0.75,1.0]");
	assert_values("linspace[2:2:1]", "[2.0]");
	assert_values("logspace[-3:-1:3]", "[0.001,0.01,0.1]");
	assert_values("logspace[1:3:3:2]", "[2.0,4.0,8.0]");
	assert_values("[[128, 64], [256]]", "[[128,64],[256]]"); /* a sweep over a list flag's values */
}

static void bad_specs_are_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"[]", "[[[1]]]", "[[]]", "[{a: 1}]", "[1,2", "range[1:2:0]", "range[1:5:-1]", "range[a:b]", "range[1]",
		"range[1:2:3:4]", "linspace[0:1:0]", "linspace[0:1:2.5]", "logspace[0:1:3:0]", "uniform[2:1]",
		"uniform[1:1]", "loguniform[0:1]", "loguniform[-1:1]", "randint[1.5:3]", "randint[5:1]",
		"lograndint[0:9]", "uniform[nan:1]", "uniform[.inf:1]", "range[0:2000000]", "foo[1:2]", "uniform",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		tally_dim d;
		int rc = tally__dim_parse(&d, "x", bad[i]);
		if (rc != TALLY_EINVALID)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(strstr(tally_error_last(), "x"));
	}
}

static void what_counts_as_a_space(void **state)
{
	(void)state;
	assert_true(tally__is_space_spec("[1,2]"));
	assert_true(tally__is_space_spec("uniform[0:1]"));
	assert_true(tally__is_space_spec("lograndint[1:9]"));
	assert_false(tally__is_space_spec("0.1"));
	assert_false(tally__is_space_spec("data[1]"));   /* an ordinary string */
	assert_false(tally__is_space_spec("uniform[0:1"));
	assert_false(tally__is_space_spec(""));
}

static void parse_space(tally_space *space, const char *const *specs)
{
	for (size_t i = 0; specs[i]; i += 2) {
		tally_dim d;
		assert_int_equal(tally__dim_parse(&d, specs[i], specs[i + 1]), 0);
		assert_int_equal(tally__space_add(space, &d), 0);
	}
}

/* All of a strategy's trials as one JSON text. */
static char *plan_text(const tally_space *space, const char *strategy, uint64_t budget, uint64_t seed)
{
	const tally_strategy *s = tally__strategy_find(strategy);
	void *st = NULL;
	assert_int_equal(s->start(&st, space, budget, seed, NULL), 0);
	json_t *all = json_array(), *v;
	int rc;
	while ((rc = s->next(st, NULL, 0, &v)) == 0)
		json_array_append_new(all, v);
	assert_int_equal(rc, 1);
	s->stop(st);
	char *text = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	json_decref(all);
	return text;
}

static void grid_is_every_point_last_flag_fastest(void **state)
{
	(void)state;
	tally_space space = {NULL, 0};
	parse_space(&space, (const char *const[]){"a", "[1,2]", "b", "[x,y,z]", NULL});
	assert_int_equal(tally__space_grid_size(&space), 6);
	char *text = plan_text(&space, "grid", 0, 1);
	assert_string_equal(text, "[{\"a\":1,\"b\":\"x\"},{\"a\":1,\"b\":\"y\"},{\"a\":1,\"b\":\"z\"},"
	                          "{\"a\":2,\"b\":\"x\"},{\"a\":2,\"b\":\"y\"},{\"a\":2,\"b\":\"z\"}]");
	free(text);
	tally_dim dup;
	assert_int_equal(tally__dim_parse(&dup, "a", "[3]"), 0);
	assert_int_equal(tally__space_add(&space, &dup), TALLY_EINVALID); /* a flag swept twice */
	tally__space_release(&space);
}

static void random_subsets_have_no_repeats_and_follow_the_seed(void **state)
{
	(void)state;
	tally_space space = {NULL, 0};
	parse_space(&space, (const char *const[]){"a", "range[1:20]", "b", "range[1:30]", NULL});
	char *one = plan_text(&space, "random", 100, 42), *again = plan_text(&space, "random", 100, 42),
	     *other = plan_text(&space, "random", 100, 43);
	assert_string_equal(one, again);
	assert_string_not_equal(one, other);
	json_t *points = json_loads(one, 0, NULL);
	assert_int_equal(json_array_size(points), 100);
	char seen[21][31] = {{0}};
	size_t i;
	json_t *p;
	json_array_foreach(points, i, p) {
		json_int_t a = json_integer_value(json_object_get(p, "a")), b = json_integer_value(json_object_get(p, "b"));
		assert_true(a >= 1 && a <= 20 && b >= 1 && b <= 30);
		assert_false(seen[a][b]);
		seen[a][b] = 1;
	}
	json_decref(points);
	free(one);
	free(again);
	free(other);
	/* more trials than points: the whole grid, each point once */
	char *all = plan_text(&space, "random", 10000, 5);
	points = json_loads(all, 0, NULL);
	assert_int_equal(json_array_size(points), 600);
	json_decref(points);
	free(all);
	tally__space_release(&space);
}

static void distributions_stay_in_bounds(void **state)
{
	(void)state;
	tally_space space = {NULL, 0};
	parse_space(&space, (const char *const[]){"u", "uniform[0.1:0.2]", "l", "loguniform[1e-4:1e-1]", "r",
	                                          "randint[3:5]", "g", "lograndint[1:1000]", "c", "[a,b]", NULL});
	assert_int_equal(tally__space_grid_size(&space), 0);
	assert_false(tally__space_is_finite(&space));
	char *text = plan_text(&space, "random", 300, 9);
	json_t *points = json_loads(text, 0, NULL);
	assert_int_equal(json_array_size(points), 300);
	int ints[6] = {0};
	size_t i;
	json_t *p;
	json_array_foreach(points, i, p) {
		double u = json_real_value(json_object_get(p, "u")), l = json_real_value(json_object_get(p, "l"));
		assert_true(u >= 0.1 && u <= 0.2);
		assert_true(l >= 1e-4 && l <= 1e-1);
		assert_true(json_is_integer(json_object_get(p, "r")) && json_is_integer(json_object_get(p, "g")));
		json_int_t r = json_integer_value(json_object_get(p, "r")), g = json_integer_value(json_object_get(p, "g"));
		assert_true(r >= 3 && r <= 5 && g >= 1 && g <= 1000);
		ints[r]++;
	}
	assert_true(ints[3] && ints[4] && ints[5]); /* both ends are drawn */
	json_decref(points);
	free(text);
	/* a grid refuses distributions */
	const tally_strategy *grid = tally__strategy_find("grid");
	void *st = NULL;
	assert_int_equal(grid->start(&st, &space, 0, 1, NULL), TALLY_EINVALID);
	assert_null(tally__strategy_find("bayes"));
	tally__space_release(&space);
}

static void probes_try_every_value_and_the_ends(void **state)
{
	(void)state;
	tally_space space = {NULL, 0};
	parse_space(&space, (const char *const[]){"a", "[1,2,3]", "u", "uniform[0:10]", NULL});
	json_t *probes = tally__space_probe_points(&space);
	char *text = json_dumps(probes, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS);
	assert_string_equal(text, "[{\"a\":1,\"u\":0.0},{\"a\":2,\"u\":5.123},{\"a\":3,\"u\":9.99999999}]");
	free(text);
	json_decref(probes);
	tally__space_release(&space);
	/* a generated sequence is checked at its ends and middle, a list typed by hand value by value */
	parse_space(&space, (const char *const[]){"r", "range[1:1000000]", "l", "[5,6,7,8,9]", NULL});
	probes = tally__space_probe_points(&space);
	text = json_dumps(probes, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(text, "[{\"r\":1,\"l\":5},{\"r\":500001,\"l\":6},{\"r\":1000000,\"l\":7},"
	                          "{\"r\":1000000,\"l\":8},{\"r\":1000000,\"l\":9}]");
	free(text);
	json_decref(probes);
	tally__space_release(&space);
}

static char *write_temp(const char *suffix, const char *text)
{
	char *path = malloc(64);
	snprintf(path, 64, "/tmp/tally-trials-XXXXXX%s", suffix);
	int fd = mkstemps(path, (int)strlen(suffix));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static char *load_trials(const char *suffix, const char *text, int *rc)
{
	char *path = write_temp(suffix, text);
	json_t *trials = NULL;
	*rc = tally__trials_file_load(&trials, path);
	unlink(path);
	free(path);
	char *out = trials ? json_dumps(trials, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS) : NULL;
	json_decref(trials);
	return out;
}

static void trials_files(void **state)
{
	(void)state;
	int rc;
	/* R's write.csv(): row names in a nameless column, quoted strings, NA */
	char *t = load_trials(".csv", "\"\",\"lr\",\"act\",\"units\"\r\n\"1\",0.1,\"relu\",64\r\n\"2\",1e-3,\"007\",NA\r\n", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(t, "[{\"lr\":0.1,\"act\":\"relu\",\"units\":64},{\"lr\":0.001,\"act\":\"007\"}]");
	free(t);
	t = load_trials(".csv", "a,b\n\"x, \"\"y\"\"\",2\n\n3,\n", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(t, "[{\"a\":\"x, \\\"y\\\"\",\"b\":2},{\"a\":3}]");
	free(t);
	/* Excel's "CSV UTF-8" starts with a byte-order mark; old Mac files end lines with CR alone */
	t = load_trials(".csv", "\xEF\xBB\xBFlr,units\r1,2\r3,4\r", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(t, "[{\"lr\":1,\"units\":2},{\"lr\":3,\"units\":4}]");
	free(t);
	t = load_trials(".yml", "- {lr: 0.1, act: tanh}\n- lr: '0.2'\n", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(t, "[{\"lr\":0.1,\"act\":\"tanh\"},{\"lr\":\"0.2\"}]");
	free(t);
	t = load_trials(".json", "[{\"lr\": 0.1}, {\"units\": 3, \"on\": true}]", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(t, "[{\"lr\":0.1},{\"units\":3,\"on\":true}]");
	free(t);
	static const char *const bad[][2] = {
		{".csv", "a,b\n1,2,3\n"}, {".csv", "a,b\n\"1,2\n"}, {".csv", "a\n1\"x\n"}, {".csv", "a,b\n"},
		{".yml", "lr: 0.1\n"},    {".yml", "- [1, 2]\n"},  {".yml", "- {lr: [1, 2]}\n"}, {".yml", "- {lr: 1\n"},
		{".json", "{\"lr\": 1}"}, {".json", "[1]"},       {".json", "[{\"lr\": [1]}]"}, {".json", "[{\"a\":1,\"a\":2}]"},
		{".json", "[]"},          {".txt", "lr\n1\n"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		t = load_trials(bad[i][0], bad[i][1], &rc);
		if (rc != TALLY_EINVALID)
			fail_msg("trials file %s '%s' was accepted (%d)", bad[i][0], bad[i][1], rc);
		assert_null(t);
	}
	json_t *none = NULL;
	assert_int_equal(tally__trials_file_load(&none, "/nonexistent/trials.csv"), TALLY_ENOTFOUND);
}

static void assignments_type_back(void **state)
{
	(void)state;
	json_t *values = json_loads("{\"a\": \"it's\", \"b\": 3.0, \"c\": 1e-05, \"d\": 7, \"e\": true, \"f\": \"007\"}", 0,
	                            NULL);
	const char *name;
	json_t *v;
	json_object_foreach(values, name, v) {
		tally_buf text = TALLY_BUF_INIT;
		tally__flag_assignment_text(&text, name, v);
		tally_flag f;
		assert_int_equal(tally__flag_parse_assignment(&f, text.ptr), 0);
		json_t *back = tally__flag_to_json(&f);
		if (!json_equal(back, v))
			fail_msg("%s did not type back", text.ptr);
		json_decref(back);
		tally__flag_release(&f);
		/* the public form, from JSON text, says the same */
		char *json = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17)), *pub = NULL;
		assert_int_equal(tally_flag_assignment(&pub, name, json), 0);
		assert_string_equal(pub, text.ptr);
		free(pub);
		free(json);
		tally_buf_release(&text);
	}
	json_decref(values);
	char *none = NULL;
	assert_int_equal(tally_flag_assignment(&none, "x", "{\"a\": 1}"), TALLY_EINVALID);
	assert_int_equal(tally_flag_assignment(&none, "x", "{"), TALLY_EINVALID);
	assert_null(none);
	/* a list flag's value: a list (a trial of a sweep over lists) */
	assert_int_equal(tally_flag_assignment(&none, "x", "[1, 2]"), 0);
	assert_string_equal(none, "x=[1,2]");
	free(none);
}

/*
 * A sequential strategy, as Bayesian search will be: each trial depends on
 * the results so far.  "climb" starts at x=1 and then proposes the best x
 * seen plus one; it records how many finished trials each call was given.
 */
static size_t climb_seen[16], climb_calls;

static int climb_start(void **state, const tally_space *space, uint64_t budget, uint64_t seed, const json_t *settings)
{
	(void)space, (void)budget, (void)seed, (void)settings;
	*state = &climb_calls;
	return 0;
}

static int climb_next(void *state, const tally_trial_result *done, size_t n_done, json_t **values)
{
	(void)state;
	json_int_t best_x = 0;
	double best = HUGE_VAL;
	for (size_t i = 0; i < n_done; i++)
		if (done[i].has_objective && done[i].objective < best) {
			best = done[i].objective;
			best_x = json_integer_value(json_object_get(done[i].flags, "x"));
		}
	if (climb_calls < 16)
		climb_seen[climb_calls] = n_done;
	climb_calls++;
	*values = json_object();
	json_object_set_new(*values, "x", json_integer(n_done ? best_x + 1 : 1));
	return 0;
}

static void climb_stop(void *state)
{
	(void)state;
}

static const tally_strategy climb = {"climb", true, climb_start, climb_next, climb_stop};

static void a_sequential_strategy_is_asked_with_the_results_so_far(void **state)
{
	tally_store *store = *state;
	char *project = strdup(tally_store_path(store));
	*strrchr(project, '/') = '\0';
	char *script = tally_path_join(project, "climb.sh");
	static const char text[] = "#| flags:\n#|   x: {type: int, default: 0}\necho \"loss: -$FLAG_X\"\n";
	assert_int_equal(tally_write_file_atomic(script, text, strlen(text), 0), 0);
	assert_int_equal(tally__strategy_register(&climb), 0);
	assert_int_equal(tally__strategy_register(&climb), TALLY_EEXISTS);

	tally_sweep_options o = {.version = TALLY_SWEEP_OPTIONS_VERSION, .launch = TALLY_LAUNCH_OPTIONS_INIT,
	                         .strategy = "climb", .max_trials = 4, .seed = 7, .has_seed = 1, .objective = "loss"};
	const char *const flags[] = {"x=range[1:100]", NULL};
	o.launch.script = script;
	o.launch.project_dir = project;
	o.launch.flag_args = flags;
	tally_sweep *sweep = NULL;
	assert_int_equal(tally_sweep_plan(&sweep, store, &o), 0);
	assert_int_equal(tally_sweep_trial_count(sweep), 0); /* nothing is planned in advance */
	assert_string_equal(tally_sweep_describe(sweep), "up to 4 trials (climb search over 100)");
	tally_sweep_exec_options e = {TALLY_SWEEP_EXEC_VERSION, 1, NULL, 0, 0, 0, NULL, NULL, NULL, NULL};
	assert_int_equal(tally_sweep_execute(sweep, &e), 0);
	assert_string_equal(tally_sweep_status(sweep), "completed");
	assert_int_equal(tally_sweep_trial_count(sweep), 4);
	for (size_t i = 0; i < 4; i++) {
		tally_sweep_trial t;
		assert_int_equal(tally_sweep_trial_get(sweep, i, &t), 0);
		char want[16];
		snprintf(want, sizeof want, "{\"x\":%zu}", i + 1);
		assert_string_equal(t.flags_json, want);
		assert_string_equal(t.status, "completed");
		assert_true(t.has_objective && t.objective == -(double)(i + 1));
		assert_int_equal(climb_seen[i], i); /* one worker: every earlier trial had finished */
	}
	assert_int_equal(climb_calls, 4);
	assert_int_equal(tally_sweep_best(sweep), 3);
	/* the record holds the proposed trials: opened again, it reads the same */
	char id[16];
	snprintf(id, sizeof id, "%s", tally_sweep_id(sweep));
	tally_sweep_free(sweep);
	assert_int_equal(tally_sweep_open(&sweep, store, id), 0);
	assert_int_equal(tally_sweep_trial_count(sweep), 4);
	assert_int_equal(tally_sweep_best(sweep), 3);
	tally_sweep_free(sweep);
	free(script);
	free(project);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lists_and_finite_functions),
		cmocka_unit_test(bad_specs_are_refused),
		cmocka_unit_test(what_counts_as_a_space),
		cmocka_unit_test(grid_is_every_point_last_flag_fastest),
		cmocka_unit_test(random_subsets_have_no_repeats_and_follow_the_seed),
		cmocka_unit_test(distributions_stay_in_bounds),
		cmocka_unit_test(probes_try_every_value_and_the_ends),
		cmocka_unit_test(trials_files),
		cmocka_unit_test(assignments_type_back),
		cmocka_unit_test_setup_teardown(a_sequential_strategy_is_asked_with_the_results_so_far, make_store, free_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
