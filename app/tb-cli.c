/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tb-cli.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static gboolean
context_option_cb (const char *option_name, const char *value, gpointer data, GError **error)
{
  TbCli *cli = data;

  g_free (cli->context_dir);
  cli->context_dir = g_strdup (value);
  return TRUE;
}

/**
 * tb_cli_parse_options:
 *
 * Parses a command's options, accepting the global options too (so that
 * `trustbench-tool show --json` works as well as `--json show`).
 * `--help` prints the command's help and exits 0.
 */
gboolean
tb_cli_parse_options (TbCli *cli, int *argc, char ***argv, const char *parameter_string,
                      const char *summary, const GOptionEntry *entries, GError **error)
{
  g_autoptr(GOptionContext) octx = NULL;
  g_autofree char *param = g_strdup_printf ("%s%s%s", cli->command_path,
                                            parameter_string != NULL ? " " : "",
                                            parameter_string != NULL ? parameter_string : "");
  GOptionGroup *global;
  g_autoptr(GError) local_error = NULL;
  const GOptionEntry global_entries[] = {
    { "context", 'C', 0, G_OPTION_ARG_CALLBACK, (gpointer) context_option_cb,
      N_("Security context directory (default: $TRUSTBENCH_CONTEXT)"), N_("DIR") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &cli->json, N_("Print one JSON object on stdout"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli->quiet, N_("Print no progress or messages"), NULL },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &cli->passphrase_file,
      N_("Read the key passphrase from FILE (default: $TRUSTBENCH_PASSPHRASE, else a prompt)"), N_("FILE") },
    { NULL },
  };

  octx = g_option_context_new (param);
  g_option_context_set_summary (octx, summary);
  g_option_context_set_translation_domain (octx, GETTEXT_PACKAGE);
  if (entries != NULL)
    g_option_context_add_main_entries (octx, entries, GETTEXT_PACKAGE);
  global = g_option_group_new ("global", _("Global options:"), _("Show global options"), cli, NULL);
  g_option_group_add_entries (global, global_entries);
  g_option_group_set_translation_domain (global, GETTEXT_PACKAGE);
  g_option_context_add_group (octx, global);
  g_option_context_set_strict_posix (octx, FALSE);

  /* argv[0] is the command name; GOption skips it. */
  if (!g_option_context_parse (octx, argc, argv, &local_error))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, "%s (see “%s %s --help”)",
                   local_error->message, cli->prog, cli->command_path);
      return FALSE;
    }
  return TRUE;
}

static void
print_error_json (const char *code, const char *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

/**
 * tb_cli_usage_error:
 *
 * Reports a usage error and returns exit code 2.
 */
int
tb_cli_usage_error (TbCli *cli, const char *format, ...)
{
  va_list args;
  g_autoptr(GError) error = NULL;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  error = g_error_new_literal (TB_ERROR, TB_ERROR_INVALID_ARGUMENT, msg);
  return tb_cli_fail (cli, error);
}

/**
 * tb_cli_fail:
 *
 * Prints one line `trustbench-tool: MESSAGE` on stderr (and the JSON error
 * object on stdout with --json) and returns the exit code for @error.
 */
int
tb_cli_fail (TbCli *cli, const GError *error)
{
  fprintf (stderr, "%s: %s\n", cli->prog, error->message);
  if (cli->json)
    print_error_json (tb_error_code_name (error), error->message);
  return tb_error_to_exit_code (error);
}

/**
 * tb_cli_print_result:
 * @builder: a builder holding one complete object
 *
 * With --json prints the object on stdout. Returns 0.
 */
int
tb_cli_print_result (TbCli *cli, JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) gen = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  if (!cli->json)
    return TB_EXIT_OK;
  gen = json_generator_new ();
  root = json_builder_get_root (builder);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
  return TB_EXIT_OK;
}

/**
 * tb_cli_claim_output:
 * @path: an output file as given (`-o FILE`)
 *
 * Call before writing @path. When it is standard output ("-",
 * /dev/stdout), the messages move to stderr so that stdout carries only
 * the data; with --json, which owns stdout, it is a usage error.
 */
gboolean
tb_cli_claim_output (TbCli *cli, const char *path, GError **error)
{
  if (!tb_file_is_stdout (path))
    return TRUE;
  if (cli->json)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("With --json, standard output carries the JSON object only; write %s to a file"), path);
      return FALSE;
    }
  cli->stdout_is_output = TRUE;
  return TRUE;
}

/**
 * tb_cli_output_name:
 * @path: an output file as given
 *
 * Returns: @path as the messages name it: "standard output" for "-" and
 *   /dev/stdout, else @path
 */
const char *
tb_cli_output_name (const char *path)
{
  return tb_file_is_stdout (path) ? _("standard output") : path;
}

/**
 * tb_cli_message:
 *
 * Human-readable output: stdout normally, stderr with --json (stdout then
 * carries only the JSON object) or when an output goes to stdout (see
 * tb_cli_claim_output()), nothing with --quiet.
 */
void
tb_cli_message (TbCli *cli, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;
  FILE *out;

  if (cli->quiet)
    return;
  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  out = cli->json || cli->stdout_is_output ? stderr : stdout;
  fprintf (out, "%s\n", msg);
  fflush (out);
}

const char *
tb_cli_context_dir (TbCli *cli)
{
  if (cli->context_dir != NULL && cli->context_dir[0] != '\0')
    return cli->context_dir;
  return g_getenv ("TRUSTBENCH_CONTEXT");
}

/**
 * tb_cli_open_context:
 *
 * Opens the context named by -C or $TRUSTBENCH_CONTEXT; a usage error
 * when neither is given.
 */
TbContext *
tb_cli_open_context (TbCli *cli, TbContextOpenFlags flags, GError **error)
{
  const char *dir = tb_cli_context_dir (cli);

  if (dir == NULL || dir[0] == '\0')
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("No security context given: use -C DIR or set TRUSTBENCH_CONTEXT"));
      return NULL;
    }
  return tb_context_open (dir, flags, error);
}

/* ---- passphrases ---- */

static TbSecret *
read_tty_line (int fd, const char *prompt, GError **error)
{
  struct termios old, quiet;
  GString *line = g_string_new (NULL);
  TbSecret *secret;
  gboolean echo_off;
  char c;

  if (write (fd, prompt, strlen (prompt)) < 0)
    {
      /* the prompt is cosmetic */
    }
  echo_off = tcgetattr (fd, &old) == 0;
  if (echo_off)
    {
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (fd, TCSAFLUSH, &quiet);
    }
  for (;;)
    {
      gssize n = read (fd, &c, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || c == '\n' || c == '\r')
        break;
      g_string_append_c (line, c);
    }
  if (echo_off)
    tcsetattr (fd, TCSAFLUSH, &old);
  if (write (fd, "\n", 1) < 0)
    {
      /* cosmetic */
    }
  if (line->len == 0)
    {
      g_string_free (line, TRUE);
      g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION, _("No passphrase entered"));
      return NULL;
    }
  secret = tb_secret_new_len (line->str, line->len);
  tb_secret_wipe (line->str, line->len);
  g_string_free (line, TRUE);
  return secret;
}

/**
 * tb_cli_get_passphrase:
 * @purpose: what it unlocks, for the prompt
 * @new_passphrase: ask twice (a passphrase being set)
 *
 * The passphrase comes from $TRUSTBENCH_PASSPHRASE, else --passphrase-file,
 * else a prompt on the terminal without echo; never from an argument.
 */
TbSecret *
tb_cli_get_passphrase (TbCli *cli, const char *purpose, gboolean new_passphrase, GError **error)
{
  return tb_cli_get_secret (cli, "TRUSTBENCH_PASSPHRASE", cli->passphrase_file, "--passphrase-file", purpose,
                            new_passphrase, error);
}

/**
 * tb_cli_get_secret:
 * @env_name: the environment variable that may hold it
 * @file: (nullable): the file given with @option
 *
 * A secret from $@env_name, else @file, else a prompt on the terminal
 * without echo; never from an argument.
 */
TbSecret *
tb_cli_get_secret (TbCli *cli, const char *env_name, const char *file, const char *option, const char *purpose,
                   gboolean new_passphrase, GError **error)
{
  const char *env = g_getenv (env_name);
  g_autoptr(TbSecret) first = NULL;
  g_autoptr(TbSecret) second = NULL;
  g_autofree char *prompt = NULL;
  int fd;

  if (env != NULL && env[0] != '\0')
    return tb_secret_new (env);
  if (file != NULL)
    {
      g_autofree char *data = NULL;
      gsize len = 0;
      if (!tb_file_read_bounded (file, 4096, &data, &len, error))
        return NULL;
      while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
      first = tb_secret_new_len (data, len);
      tb_secret_wipe (data, len);
      if (len == 0)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION, _("The passphrase file %s is empty"), file);
          return NULL;
        }
      return g_steal_pointer (&first);
    }
  fd = open ("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("A passphrase is needed for %s: set %s, use %s FILE or run on a terminal"), purpose, env_name,
                   option);
      return NULL;
    }
  prompt = g_strdup_printf (_("Passphrase for %s: "), purpose);
  first = read_tty_line (fd, prompt, error);
  if (first != NULL && new_passphrase)
    {
      second = read_tty_line (fd, _("Repeat the passphrase: "), error);
      if (second != NULL && strcmp (first, second) != 0)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("The passphrases do not match"));
          g_clear_pointer (&first, tb_secret_free);
        }
      else if (second == NULL)
        g_clear_pointer (&first, tb_secret_free);
    }
  close (fd);
  return g_steal_pointer (&first);
}

/* ---- progress rendering ---- */

typedef struct {
  TbCli *cli;
  gboolean tty;
  gboolean bar_shown;
  char *last_stage;
} ProgressView;

static void
progress_clear_bar (ProgressView *view)
{
  if (view->bar_shown)
    {
      fputs ("\r\033[K", stderr);
      view->bar_shown = FALSE;
    }
}

static void
progress_log_cb (TbProgress *progress, const char *line, ProgressView *view)
{
  if (view->cli->quiet)
    return;
  progress_clear_bar (view);
  fprintf (stderr, "%s\n", line);
  fflush (stderr);
}

static void
progress_changed_cb (TbProgress *progress, ProgressView *view)
{
  const int width = 30;
  double fraction;
  g_autofree char *stage = NULL;
  int filled;
  char bar[64];

  if (view->cli->quiet || !view->tty)
    return;
  fraction = tb_progress_get_fraction (progress);
  stage = tb_progress_dup_stage (progress);
  filled = (int) (fraction * width + 0.5);
  for (int i = 0; i < width; i++)
    bar[i] = i < filled ? '#' : '.';
  bar[width] = '\0';
  fprintf (stderr, "\r\033[K[%s] %3d%% %s", bar, (int) (fraction * 100.0 + 0.5),
           stage != NULL ? stage : "");
  fflush (stderr);
  view->bar_shown = TRUE;
}

static gboolean
sigint_cb (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_CONTINUE;
}

/**
 * tb_cli_run_work:
 *
 * Runs @func through tb_work_run() with a #TbProgress rendered on stderr
 * (a bar on a TTY, plain lines otherwise); Ctrl-C cancels it.
 */
gboolean
tb_cli_run_work (TbCli *cli, TbCliWorkFunc func, gpointer data, GError **error)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TbProgress) progress = tb_progress_new (cancellable);
  ProgressView view = { cli, isatty (STDERR_FILENO), FALSE, NULL };
  guint sigint_id;
  gboolean ok;

  g_signal_connect (progress, "log", G_CALLBACK (progress_log_cb), &view);
  g_signal_connect (progress, "changed", G_CALLBACK (progress_changed_cb), &view);
  sigint_id = g_unix_signal_add (SIGINT, sigint_cb, cancellable);
  ok = tb_work_run (func, data, progress, error);
  g_source_remove (sigint_id);
  progress_clear_bar (&view);
  g_signal_handlers_disconnect_by_data (progress, &view);
  g_free (view.last_stage);
  return ok;
}

/* ---- dispatch ---- */

void
tb_cli_print_commands (FILE *out, const TbCliCommand *commands)
{
  for (const TbCliCommand *c = commands; c->name != NULL; c++)
    fprintf (out, "  %-16s %s\n", c->name, _(c->summary));
}

/* Levenshtein distance of two short ASCII words, capped: enough to tell a
 * typo from another word. */
static guint
edit_distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = NULL;

  if (la > 64 || lb > 64)
    return G_MAXUINT;
  row = g_new (guint, lb + 1);
  for (gsize j = 0; j <= lb; j++)
    row[j] = (guint) j;
  for (gsize i = 1; i <= la; i++)
    {
      guint diagonal = row[0];
      row[0] = (guint) i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint above = row[j];
          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
          diagonal = above;
        }
    }
  return row[lb];
}

/* The command @word is most likely a typo of, or %NULL. */
static const char *
closest_command (const TbCliCommand *commands, const char *word)
{
  const char *best = NULL;
  guint best_distance = G_MAXUINT;

  for (const TbCliCommand *c = commands; c->name != NULL; c++)
    {
      guint d = edit_distance (word, c->name);
      if (d < best_distance)
        best = c->name, best_distance = d;
    }
  return best_distance <= 2 && best_distance < strlen (word) ? best : NULL;
}

/**
 * tb_cli_dispatch:
 * @argv: argv[0] is the command name
 *
 * Finds the command in @commands and runs it; groups recurse.
 */
int
tb_cli_dispatch (TbCli *cli, const TbCliCommand *commands, int argc, char **argv)
{
  const TbCliCommand *cmd = NULL;
  g_autofree char *parent = NULL;

  for (const TbCliCommand *c = commands; c->name != NULL; c++)
    if (g_str_equal (c->name, argv[0]))
      cmd = c;
  if (cmd == NULL)
    {
      const char *closest = closest_command (commands, argv[0]);
      /* the group the command was looked for in: "key " for `key lst` */
      g_autofree char *group = cli->command_path != NULL ? g_strconcat (cli->command_path, " ", NULL) : g_strdup ("");

      fprintf (stderr, _("Commands:\n"));
      tb_cli_print_commands (stderr, commands);
      if (closest != NULL)
        return tb_cli_usage_error (cli, _("Unknown command “%s%s”: did you mean “%s%s”?"), group, argv[0], group,
                                   closest);
      return tb_cli_usage_error (cli, _("Unknown command “%s%s” (see “%s --help”)"), group, argv[0], cli->prog);
    }

  parent = g_steal_pointer (&cli->command_path);
  cli->command_path = parent != NULL ? g_strdup_printf ("%s %s", parent, cmd->name) : g_strdup (cmd->name);

  if (cmd->func != NULL)
    return cmd->func (cli, argc, argv);

  /* a group: `key` alone or `key --help` lists its subcommands */
  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      FILE *out = argc < 2 ? stderr : stdout;
      fprintf (out, _("Usage:\n  %s %s COMMAND [OPTIONS…]\n\n%s\n\nCommands:\n"),
               cli->prog, cli->command_path, _(cmd->summary));
      tb_cli_print_commands (out, cmd->subcommands);
      if (argc < 2)
        return tb_cli_usage_error (cli, _("“%s” needs a command"), cli->command_path);
      return TB_EXIT_OK;
    }
  return tb_cli_dispatch (cli, cmd->subcommands, argc - 1, argv + 1);
}

/* A string member, or null when @value is %NULL. */
void
tb_cli_add_string (JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name (b, member);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
tb_cli_add_int (JsonBuilder *b, const char *member, gint64 value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_int_value (b, value);
}
