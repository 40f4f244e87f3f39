/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch login / hutch logout: credentials checked against the registry,
 * then kept in auth.json (mode 0600) where podman and skopeo find them too. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli-private.h"

/* One line from stdin, without its newline; echo off for a password on a
 * terminal. */
static char *
read_line (const char *prompt, gboolean secret)
{
  struct termios old, quiet;
  gboolean tty = isatty (STDIN_FILENO);
  gboolean restore = FALSE;
  char buf[4096];
  char *got;

  if (tty && prompt != NULL)
    {
      fputs (prompt, stderr);
      fflush (stderr);
    }
  if (tty && secret && tcgetattr (STDIN_FILENO, &old) == 0)
    {
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      restore = tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
  got = fgets (buf, sizeof buf, stdin);
  if (restore)
    {
      (void) tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
      fputc ('\n', stderr);
    }
  if (got == NULL)
    return NULL;
  buf[strcspn (buf, "\r\n")] = '\0';
  return g_strdup (buf);
}

/* The auth.json key of a registry: docker's aliases are docker.io, and a
 * path ("index.docker.io/v1/") is no part of it. */
static char *
registry_key (const char *text)
{
  char *key = hutch_registry_auth_key (text);

  key[strcspn (key, "/")] = '\0';
  return key;
}

static int
run_login (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *username = NULL, *password = NULL, *tls_text = NULL, *authfile = NULL;
  g_autofree char *registry = NULL, *file = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchRegistry) reg = NULL;
  HutchRegistryOptions opts = { 0 };
  gboolean password_stdin = FALSE;
  int status;
  const GOptionEntry entries[] = {
    { "username", 'u', 0, G_OPTION_ARG_STRING, &username, "The user name", "USER" },
    { "password", 'p', 0, G_OPTION_ARG_STRING, &password,
      "The password (visible to other users: prefer --password-stdin)", "PASSWORD" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin, "Read the password from stdin", NULL },
    { "tls-verify", 0, 0, G_OPTION_ARG_STRING, &tls_text,
      "false: accept any certificate, or plain HTTP (default: true)", "BOOL" },
    { "authfile", 0, 0, G_OPTION_ARG_FILENAME, &authfile,
      "Write to FILE (default: $XDG_RUNTIME_DIR/containers/auth.json)", "FILE" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc != 2)
    return hutch_cli_usage_error (cmd, "name one registry, such as docker.io or localhost:5000");
  if (password != NULL && password_stdin)
    return hutch_cli_usage_error (cmd, "give --password or --password-stdin, not both");
  if (!hutch_cli_registry_options (&opts, tls_text, NULL, authfile, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  registry = registry_key (argv[1]);
  if (username == NULL)
    {
      if (password_stdin || !isatty (STDIN_FILENO))
        return hutch_cli_usage_error (cmd, "give the user name with --username");
      username = read_line ("Username: ", FALSE);
    }
  if (password == NULL)
    {
      if (!password_stdin && !isatty (STDIN_FILENO))
        return hutch_cli_usage_error (cmd, "give the password with --password-stdin");
      password = read_line (password_stdin ? NULL : "Password: ", TRUE);
    }
  if (username == NULL || username[0] == '\0' || password == NULL || password[0] == '\0')
    return hutch_cli_usage_error (cmd, "a user name and a password are needed");
  opts.username = username;
  opts.password = password;
  file = authfile != NULL ? g_strdup (authfile) : hutch_registry_auth_file_default ();
  reg = hutch_registry_new (registry, NULL, &opts, &error);
  if (reg == NULL || !hutch_registry_check_login (reg, &error)
      || !hutch_registry_auth_store (file, registry, username, password, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  printf ("Login Succeeded!\n");
  return 0;
}

const HutchCliCommand hutch_cli_command_login = {
  "login", "[OPTIONS] REGISTRY",
  "Log in to a registry",
  run_login,
};

static int
run_logout (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *authfile = NULL, *file = NULL, *registry = NULL;
  g_autoptr (GError) error = NULL;
  gboolean all = FALSE;
  guint removed;
  int status;
  const GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Log out of every registry", NULL },
    { "authfile", 0, 0, G_OPTION_ARG_FILENAME, &authfile,
      "The file to change (default: $XDG_RUNTIME_DIR/containers/auth.json)", "FILE" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (all ? argc != 1 : argc != 2)
    return hutch_cli_usage_error (cmd, all ? "--all takes no registry" : "name one registry, or give --all");
  file = authfile != NULL ? g_strdup (authfile) : hutch_registry_auth_file_default ();
  if (all)
    {
      if (!hutch_registry_auth_remove_all (file, &removed, &error))
        return hutch_cli_fail (g_steal_pointer (&error));
      printf ("Removed login credentials for all registries\n");
      return 0;
    }
  registry = registry_key (argv[1]);
  if (!hutch_registry_auth_store (file, registry, NULL, NULL, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  printf ("Removed login credentials for %s\n", registry);
  return 0;
}

const HutchCliCommand hutch_cli_command_logout = {
  "logout", "[OPTIONS] [REGISTRY]",
  "Log out of a registry",
  run_logout,
};
