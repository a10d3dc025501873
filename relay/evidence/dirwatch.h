/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dirwatch - tells at once when a file changes, so the log follower reads a
 * new line within a millisecond instead of at its next poll (up to 250 ms
 * later, which was most of the time from a block's evidence to its route).
 *
 * inotify on the file's directory, not on the file: events for the name
 * survive rotation by rename and a file that does not exist yet.  Any event
 * naming the file (modified, created, moved in or out, deleted, attributes
 * changed) or an overflow of the event queue calls on_change; the caller
 * then reads as it would on its timer, which stays as the fallback (a
 * filesystem without inotify, e.g. some network mounts).  Events for other
 * names in the directory are read and dropped.
 *
 * Runs on the caller's event_base.  dirwatch_new() returns NULL (errno set)
 * where inotify is not available; the caller goes on with its timer.
 */
#ifndef MXD_DIRWATCH_H
#define MXD_DIRWATCH_H

struct event_base;
struct dirwatch;

struct dirwatch *dirwatch_new(struct event_base *base, const char *path,
                              void (*on_change)(void *arg), void *arg);
void dirwatch_free(struct dirwatch *w);

#endif
