"""CLUSTER without cluster mode: Redis 7.0 has the command (and its subcommands, with their flags
and docs, so COMMAND INFO/DOCS and a script's no-script check see them) even when
`cluster-enabled` is no, and then every subcommand answers that cluster support is disabled.

It must not: pretend to be a cluster (forkv has no cluster bus, slots or nodes).
"""

from typing import TYPE_CHECKING

from server import errors
from server.docs import Documented, arg
from server.errors import CommandError
from server.table import Argv, Flag, Reply, command, container

if TYPE_CHECKING:
    from server.client import Client

F = Flag

container("cluster", "cluster", summary="A container for cluster commands", since="3.0.0",
          complexity="Depends on subcommand.")


def _disabled(client: "Client", argv: Argv) -> Reply:
    """Redis's clusterCommand while cluster_enabled is 0: the same answer for every subcommand."""
    raise CommandError(errors.CLUSTER_DISABLED)


# One declaration per subcommand, as src/commands/cluster-*.json of Redis 7.0 has them.
command("cluster|addslots", -3, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Assign new hash slots to receiving node',
        since='3.0.0',
        complexity='O(N) where N is the total number of hash slot arguments',
        arguments=(Documented('slot [slot ...]',
                               arg('slot', 'integer', flags='multiple')),))(_disabled)
command("cluster|addslotsrange", -4, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Assign new hash slots to receiving node',
        since='7.0.0',
        complexity='O(N) where N is the total number of the slots between the start slot and end slot arguments.',
        arguments=(Documented('start-slot end-slot [start-slot end-slot ...]',
                               arg('start-slot_end-slot', 'block', flags='multiple', args=(
                                   arg('start-slot', 'integer'),
                                   arg('end-slot', 'integer'),))),))(_disabled)
command("cluster|bumpepoch", 2, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Advance the cluster config epoch',
        since='3.0.0',
        complexity='O(1)',
        tips=('nondeterministic_output',))(_disabled)
command("cluster|count-failure-reports", 3, F.ADMIN | F.STALE, group="cluster",
        summary='Return the number of failure reports active for a given node',
        since='3.0.0',
        complexity='O(N) where N is the number of failure reports',
        arguments=(Documented('node-id',
                               arg('node-id', 'string')),),
        tips=('nondeterministic_output',))(_disabled)
command("cluster|countkeysinslot", 3, F.STALE, group="cluster",
        summary='Return the number of local keys in the specified hash slot',
        since='3.0.0',
        complexity='O(1)',
        arguments=(Documented('slot',
                               arg('slot', 'integer')),))(_disabled)
command("cluster|delslots", -3, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Set hash slots as unbound in receiving node',
        since='3.0.0',
        complexity='O(N) where N is the total number of hash slot arguments',
        arguments=(Documented('slot [slot ...]',
                               arg('slot', 'integer', flags='multiple')),))(_disabled)
command("cluster|delslotsrange", -4, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Set hash slots as unbound in receiving node',
        since='7.0.0',
        complexity='O(N) where N is the total number of the slots between the start slot and end slot arguments.',
        arguments=(Documented('start-slot end-slot [start-slot end-slot ...]',
                               arg('start-slot_end-slot', 'block', flags='multiple', args=(
                                   arg('start-slot', 'integer'),
                                   arg('end-slot', 'integer'),))),))(_disabled)
command("cluster|failover", -2, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Forces a replica to perform a manual failover of its master.',
        since='3.0.0',
        complexity='O(1)',
        arguments=(Documented('[FORCE|TAKEOVER]',
                               arg('options', 'oneof', flags='optional', args=(
                                   arg('force', 'pure-token', token='FORCE'),
                                   arg('takeover', 'pure-token', token='TAKEOVER'),))),))(_disabled)
command("cluster|flushslots", 2, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary="Delete a node's own slots information",
        since='3.0.0',
        complexity='O(1)')(_disabled)
command("cluster|forget", 3, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Remove a node from the nodes table',
        since='3.0.0',
        complexity='O(1)',
        arguments=(Documented('node-id',
                               arg('node-id', 'string')),))(_disabled)
command("cluster|getkeysinslot", 4, F.STALE, group="cluster",
        summary='Return local key names in the specified hash slot',
        since='3.0.0',
        complexity='O(log(N)) where N is the number of requested keys',
        arguments=(Documented('slot',
                               arg('slot', 'integer')), Documented('count',
                               arg('count', 'integer')),),
        tips=('nondeterministic_output',))(_disabled)
command("cluster|help", 2, F.LOADING | F.STALE, group="cluster",
        summary='Show helpful text about the different subcommands',
        since='5.0.0',
        complexity='O(1)')(_disabled)
command("cluster|info", 2, F.STALE, group="cluster",
        summary='Provides info about Redis Cluster node state',
        since='3.0.0',
        complexity='O(1)',
        tips=('nondeterministic_output',))(_disabled)
command("cluster|keyslot", 3, F.STALE, group="cluster",
        summary='Returns the hash slot of the specified key',
        since='3.0.0',
        complexity='O(N) where N is the number of bytes in the key',
        arguments=(Documented('key',
                               arg('key', 'string')),))(_disabled)
command("cluster|links", 2, F.STALE, group="cluster",
        summary='Returns a list of all TCP links to and from peer nodes in cluster',
        since='7.0.0',
        complexity='O(N) where N is the total number of Cluster nodes',
        tips=('nondeterministic_output',))(_disabled)
command("cluster|meet", -4, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Force a node cluster to handshake with another node',
        since='3.0.0',
        complexity='O(1)',
        arguments=(Documented('ip',
                               arg('ip', 'string')), Documented('port',
                               arg('port', 'integer')), Documented('[cluster_bus_port]',
                               arg('cluster_bus_port', 'integer', flags='optional', since='4.0.0')),),
        history=(('4.0.0', 'Added the optional `cluster_bus_port` argument.'),))(_disabled)
command("cluster|myid", 2, F.STALE, group="cluster",
        summary='Return the node id',
        since='3.0.0',
        complexity='O(1)')(_disabled)
command("cluster|nodes", 2, F.STALE, group="cluster",
        summary='Get Cluster config for the node',
        since='3.0.0',
        complexity='O(N) where N is the total number of Cluster nodes',
        tips=('nondeterministic_output',))(_disabled)
command("cluster|replicas", 3, F.ADMIN | F.STALE, group="cluster",
        summary='List replica nodes of the specified master node',
        since='5.0.0',
        complexity='O(1)',
        arguments=(Documented('node-id',
                               arg('node-id', 'string')),),
        tips=('nondeterministic_output',))(_disabled)
command("cluster|replicate", 3, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Reconfigure a node as a replica of the specified master node',
        since='3.0.0',
        complexity='O(1)',
        arguments=(Documented('node-id',
                               arg('node-id', 'string')),))(_disabled)
command("cluster|reset", -2, F.ADMIN | F.STALE | F.NOSCRIPT, group="cluster",
        summary='Reset a Redis Cluster node',
        since='3.0.0',
        complexity='O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.',
        arguments=(Documented('[HARD|SOFT]',
                               arg('hard_soft', 'oneof', flags='optional', args=(
                                   arg('hard', 'pure-token', token='HARD'),
                                   arg('soft', 'pure-token', token='SOFT'),))),))(_disabled)
command("cluster|saveconfig", 2, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Forces the node to save cluster state on disk',
        since='3.0.0',
        complexity='O(1)')(_disabled)
command("cluster|set-config-epoch", 3, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Set the configuration epoch in a new node',
        since='3.0.0',
        complexity='O(1)',
        arguments=(Documented('config-epoch',
                               arg('config-epoch', 'integer')),))(_disabled)
command("cluster|setslot", -4, F.NO_ASYNC_LOADING | F.ADMIN | F.STALE, group="cluster",
        summary='Bind a hash slot to a specific node',
        since='3.0.0',
        complexity='O(1)',
        arguments=(Documented('slot',
                               arg('slot', 'integer')),
                   Documented('IMPORTING node-id|MIGRATING node-id|NODE node-id|STABLE',
                               arg('subcommand', 'oneof', args=(
                                   arg('node-id', 'string', token='IMPORTING'),
                                   arg('node-id', 'string', token='MIGRATING'),
                                   arg('node-id', 'string', token='NODE'),
                                   arg('stable', 'pure-token', token='STABLE'),))),))(_disabled)
command("cluster|shards", 2, F.STALE, group="cluster",
        summary='Get array of cluster slots to node mappings',
        since='7.0.0',
        complexity='O(N) where N is the total number of cluster nodes',
        tips=('nondeterministic_output',))(_disabled)
command("cluster|slaves", 3, F.ADMIN | F.STALE, group="cluster",
        summary='List replica nodes of the specified master node',
        since='3.0.0',
        complexity='O(1)',
        arguments=(Documented('node-id',
                               arg('node-id', 'string')),),
        tips=('nondeterministic_output',),
        doc_flags=('deprecated',),
        deprecated_since='5.0.0',
        replaced_by='`CLUSTER REPLICAS`')(_disabled)
command("cluster|slots", 2, F.STALE, group="cluster",
        summary='Get array of Cluster slot to node mappings',
        since='3.0.0',
        complexity='O(N) where N is the total number of Cluster nodes',
        tips=('nondeterministic_output',),
        history=(('4.0.0', 'Added node IDs.'), ('7.0.0', 'Added additional networking metadata field.')),
        doc_flags=('deprecated',),
        deprecated_since='7.0.0',
        replaced_by='`CLUSTER SHARDS`')(_disabled)
