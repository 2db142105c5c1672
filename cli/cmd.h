/* cmd.h - the subcommands of the blueflow binary. Each takes the
 * arguments after its name (argv[0] is the command name) and returns the
 * process exit code. What they share is in cli/common.h. */
#ifndef BLUEFLOW_CMD_H
#define BLUEFLOW_CMD_H

#define CMD_OK 0
#define CMD_FAIL 1
#define CMD_USAGE 2

int cmd_chat(int argc, char **argv);
/* `chat history` (cmd_history.c), from cmd_chat. */
int cmd_chat_history(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_inbox(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_try(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_sender(int argc, char **argv);
int cmd_webhook(int argc, char **argv);
int cmd_tick(int argc, char **argv);
int cmd_timers(int argc, char **argv);
int cmd_flow(int argc, char **argv);

#endif
