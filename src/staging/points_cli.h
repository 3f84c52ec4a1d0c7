/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `livemig-staging points ...`: recovery points from the command line. */
#ifndef LIVEMIG_STAGING_POINTS_CLI_H
#define LIVEMIG_STAGING_POINTS_CLI_H

/* argv[0] is "points". Returns the exit status. */
int points_cli(int argc, char **argv);

#endif
