/*
 * tool.h - what the scan and move front ends share beyond the broker
 * settings: the --check command and the conventions of main().
 *
 * Library code: it returns statuses and fills buffers; printing and
 * exiting stay in each tool's main.c.
 */
#ifndef SCANMOVE_TOOL_H
#define SCANMOVE_TOOL_H

#include <stddef.h>

#include "cfg.h"
#include "mq.h"

/*
 * tool_check - connect to the broker of c, declare the topology, and write
 * a one-line report into out (outlen bytes) such as "amqp://guest@h:5672/
 * (RabbitMQ 3.10.8): queue 'files' (quorum) has 12 messages, 2 consumers;
 * 'files.dead' has 0 messages". conn_name as for mq_connect. Returns
 * MQ_OK, or the failure with its sentence in err.
 */
enum mq_status tool_check(const struct cfg *c, const char *conn_name, char *out, size_t outlen,
                          char *err, size_t errlen);

/*
 * tool_conn_name - write "prog@host[pid]" into out, the connection name
 * shown by the broker, so an operator can tell the movers apart.
 */
void tool_conn_name(const char *prog, char *out, size_t outlen);

#endif
