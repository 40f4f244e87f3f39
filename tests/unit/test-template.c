/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go templates (src/util/template*.c), against what docker's documentation
 * shows its --format printing, and Go's own text/template behaviour. */
#include "config.h"

#include <string.h>

#include "util/util.h"

static const char data[] =
  "{\"ID\":\"4c01db0b339c\",\"Names\":[\"web\",\"web-alias\"],\"Name\":\"Foo_bar baz\","
  "\"Image\":\"ubuntu:12.04\",\"Size\":1.5,\"Count\":3,\"Running\":true,\"None\":null,"
  "\"Empty\":[],\"Args\":[\"-c\",\"echo hi\"],"
  "\"Labels\":{\"com.example.version\":\"1.0\",\"a\":\"x\"},"
  "\"State\":{\"Status\":\"running\",\"ExitCode\":0,\"Pid\":4242},"
  "\"Config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":null},"
  "\"Mounts\":[{\"Source\":\"/data\",\"Destination\":\"/d\"},{\"Source\":\"/logs\",\"Destination\":\"/l\"}],"
  "\"NetworkSettings\":{\"Ports\":{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"}]}}}";

typedef struct
{
  const char *tmpl;
  const char *want; /* output, or with @error, a part of the message */
  gboolean error;
} Case;

static const Case cases[] = {
  /* docker ps --format, docker inspect --format, as their pages show */
  { "{{.ID}}: {{.Image}}", "4c01db0b339c: ubuntu:12.04" },
  { "{{.State.Pid}}", "4242" },
  { "{{json .Config}}", "{\"Env\":[\"PATH=/bin\"],\"Cmd\":null}" },
  { "{{json .Name}}", "\"Foo_bar baz\"" },
  { "{{range .Mounts}}{{.Source}} -> {{.Destination}};{{end}}", "/data -> /d;/logs -> /l;" },
  { "{{join .Names \", \"}}", "web, web-alias" },
  { "{{join .Args \" , \"}}", "-c , echo hi" },
  { "{{split .Image \":\"}}", "[ubuntu 12.04]" },
  { "{{lower .Name}}|{{upper .Name}}|{{title \"foo bar-baz\"}}", "foo_bar baz|FOO_BAR BAZ|Foo Bar-Baz" },
  /* bytes that are not UTF-8 become U+FFFD, and the walk stops at the end */
  { "{{title \"a b\xdc\"}}|{{upper \"\xff\"}}|{{truncate \"\xe2\x82\" 1}}", "A B\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd" },
  { "{{pad .ID 2 1}}|", "  4c01db0b339c |" },
  { "{{truncate .ID 4}}|{{truncate .ID 40}}", "4c01|4c01db0b339c" },
  { "{{index .Labels \"com.example.version\"}}", "1.0" },
  { "{{index .Labels \"missing\"}}", "<no value>" },
  { "{{index .Names 1}}", "web-alias" },
  { "{{range $p, $conf := .NetworkSettings.Ports}}{{$p}} -> {{(index $conf 0).HostPort}}{{end}}",
    "80/tcp -> 8080" },
  { "{{range $k, $v := .Labels}}{{$k}}={{$v}} {{end}}", "a=x com.example.version=1.0 " },
  { "{{range $i, $n := .Names}}{{$i}}:{{$n}} {{end}}", "0:web 1:web-alias " },
  { "{{range $n := .Names}}[{{$n}}]{{end}}", "[web][web-alias]" },
  { "{{range .Empty}}x{{else}}none{{end}}", "none" },
  { "{{range .None}}x{{end}}.", "." },
  /* conditions */
  { "{{if eq .State.Status \"running\"}}up{{else}}down{{end}}", "up" },
  { "{{if .None}}a{{else if .Running}}b{{else}}c{{end}}", "b" },
  { "{{if not .Running}}a{{else if .None}}b{{else}}c{{end}}", "c" },
  { "{{if and .Running (gt .Count 2)}}yes{{end}}", "yes" },
  { "{{or .None \"dflt\"}}", "dflt" },
  { "{{with .State}}{{.Status}}{{end}}", "running" },
  { "{{with .None}}x{{else}}nothing{{end}}", "nothing" },
  { "{{if eq .Count 1 2 3}}in{{end}}", "in" },
  { "{{if lt .Size 2}}small{{end}} {{if ge .Count 3}}many{{end}}", "small many" },
  { "{{if ne .Name \"x\"}}differs{{end}}", "differs" },
  /* values as Go prints them */
  { "{{.Size}} {{.Count}} {{.Running}} {{.None}}", "1.5 3 true <no value>" },
  { "{{.Names}} {{.Labels}}", "[web web-alias] map[a:x com.example.version:1.0]" },
  { "{{len .Names}} {{len .ID}} {{len .Labels}}", "2 12 2" },
  { "{{.}}", NULL }, /* the whole object prints; checked to run only */
  /* printf, print, println */
  { "{{printf \"%-6s|%5d|%.2f|%q|%x\" \"ab\" .Count .Size \"a\\\"b\" 255}}",
    "ab    |    3|1.50|\"a\\\"b\"|ff" },
  { "{{printf \"%s has %v\" .Name .Names}}", "Foo_bar baz has [web web-alias]" },
  { "{{printf \"%d\" .Name}}", "%!d(string=Foo_bar baz)" },
  { "{{printf \"%s\"}}", "%!s(MISSING)" },
  { "{{print 1 2 \"a\" 3}}", "1 2a3" },
  { "{{println .ID .Count}}", "4c01db0b339c 3\n" },
  { "{{.Name | printf \"%s!\"}}", "Foo_bar baz!" },
  { "{{.Names | join \"-\" | upper}}", NULL, TRUE }, /* the pipe goes last: join SEP LIST */
  { "{{\"x\" | printf \"%s%s\" \"y\"}}", "yx" },
  /* variables, trimming, comments, raw strings */
  { "{{$n := .Name}}{{$n}}/{{$.ID}}", "Foo_bar baz/4c01db0b339c" },
  { "{{range .Mounts}}{{$.ID}}{{end}}", "4c01db0b339c4c01db0b339c" },
  { "a  {{- .Count -}}  b", "a3b" },
  { "a {{/* a comment */}}b", "a b" },
  { "{{`raw\\n`}}", "raw\\n" },
  { "table {{.ID}}", "table 4c01db0b339c" }, /* "table" is the caller's to take off */
  /* errors: where, and what to do */
  { "{{.Nope}}", "there is no field Nope; the fields are: ID, Names, Name", TRUE },
  { "{{.State.Nope}}", "<.State.Nope>: there is no field Nope; the fields are: Status, ExitCode, Pid", TRUE },
  { "{{.ID.X}}", "can't evaluate field X in type string", TRUE },
  { "{{.ID", "template:1:3: unclosed action", TRUE },
  { "x\n {{nosuch .ID}}", "template:2:4: function \"nosuch\" not defined", TRUE },
  { "{{if .Running}}x", "no {{end}}", TRUE },
  { "{{end}}", "unexpected {{end}}", TRUE },
  { "{{.ID .Name}}", "can't give argument to non-function", TRUE },
  { "{{index .Names 5}}", "index out of range: 5 of 2", TRUE },
  { "{{$x}}", "undefined variable $x", TRUE },
  { "{{printf}}", "wrong number of args for printf", TRUE },
  { "{{\"abc}}", "unterminated string", TRUE },
  { "{{lt .Name 3}}", "incompatible types for comparison: string and int", TRUE },
  { "{{range .ID}}{{end}}", "range can't iterate over a string", TRUE },
  { "{{)}}", "unexpected right paren", TRUE },
};

static void
test_cases (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchJsonNode) root = hutch_json_parse (data, strlen (data), &error);

  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const Case *c = &cases[i];
      g_autoptr (HutchTemplate) t = hutch_template_parse (c->tmpl, &error);
      g_autoptr (GString) out = g_string_new (NULL);
      gboolean ok = t != NULL && hutch_template_execute (t, root, out, &error);
      g_autofree char *shown = g_strescape (c->tmpl, NULL); /* TAP is read as UTF-8 */

      g_test_message ("%s", shown);
      if (c->error)
        {
          g_assert_false (ok);
          g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
          if (c->want != NULL && strstr (error->message, c->want) == NULL)
            g_error ("%s: error \"%s\" lacks \"%s\"", c->tmpl, error->message, c->want);
          g_clear_error (&error);
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      if (c->want != NULL)
        g_assert_cmpstr (out->str, ==, c->want);
    }
}

/* Deep nesting and long inputs end in an error, never a crash. */
static void
test_limits (void)
{
  g_autoptr (GString) deep = g_string_new ("{{");
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchJsonNode) root = hutch_json_parse ("{}", 2, &error);
  g_autoptr (HutchTemplate) t = NULL;

  for (int i = 0; i < 500; i++)
    g_string_append (deep, "(print ");
  g_string_append (deep, "1");
  for (int i = 0; i < 500; i++)
    g_string_append_c (deep, ')');
  g_string_append (deep, "}}");
  t = hutch_template_parse (deep->str, &error);
  if (t != NULL)
    g_assert_false (hutch_template_execute (t, root, out, &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/template/cases", test_cases);
  g_test_add_func ("/template/limits", test_limits);
  return g_test_run ();
}
