/* commands.h - the subcommands of the ncap command. Each takes argv with argv[0] the subcommand's
 * name, prints its own --help, and returns the process exit status (0 ok, 1 failure the user
 * asked to be told about, 2 usage or I/O trouble). */
#ifndef NCAP_COMMANDS_H
#define NCAP_COMMANDS_H

int cmd_sim(int argc, char **argv);
/* `ncap sim linkage`, which cmd_sim hands its arguments to (argv[0] "linkage") */
int cmd_sim_linkage(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_outliers(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_ci(int argc, char **argv);
int cmd_funnel(int argc, char **argv);
int cmd_spc(int argc, char **argv);
int cmd_link(int argc, char **argv);
int cmd_link_train(int argc, char **argv);
int cmd_link_score(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_risk(int argc, char **argv);
int cmd_feedback(int argc, char **argv);
int cmd_results(int argc, char **argv);
int cmd_action(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_refdata(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_site(int argc, char **argv);

#endif
