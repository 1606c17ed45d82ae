package dev.certknock.server.firewall;

import dev.certknock.protocol.grant.AddressText;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import dev.certknock.server.firewall.command.CommandSettings;
import dev.certknock.server.firewall.command.CommandTemplate;
import dev.certknock.server.firewall.command.CommandWriter;
import dev.certknock.server.firewall.iptables.IptablesSettings;
import dev.certknock.server.firewall.iptables.IptablesWriter;
import dev.certknock.server.firewall.nftables.NftExecutor;
import dev.certknock.server.firewall.nftables.NftSettings;
import dev.certknock.server.firewall.nftables.NftWriter;
import dev.certknock.server.process.ProcessRunner;
import dev.certknock.server.process.ProgramRunner;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Each backend's writer over an in-memory firewall that answers as the real one does for what the writer sends:
 * nft scripts and listings, {@code ipset restore} and {@code ipset save}, the {@code command} backend's open and
 * close commands. For the contract suite ({@link GrantLedgerContractTest}); the real kernels are checked by the ITs.
 */
final class InMemoryFirewalls {

    private InMemoryFirewalls() {
    }

    /** What the firewall holds for one port: until when, and the comment (null when the backend keeps none). */
    record Held(Instant until, String comment) {
    }

    /** A backend with its in-memory firewall, which outlives the writer (a restart makes a new writer over it). */
    interface Backend {
        String name();

        ElementWriter newWriter();

        /** Whether the backend has a firewall of its own (false for {@code log}). */
        boolean hasFirewall();

        /** What the firewall holds for this port of this address now, if anything. */
        Optional<Held> held(InetAddress address, Protocol protocol, int port);

        /** How many ports (of any address) the firewall holds open now. */
        int openPorts();
    }

    // ---- log ------------------------------------------------------------------------------------------------------

    static Backend log() {
        return new Backend() {
            @Override
            public String name() {
                return "log";
            }

            @Override
            public ElementWriter newWriter() {
                return new LogWriter();
            }

            @Override
            public boolean hasFirewall() {
                return false;
            }

            @Override
            public Optional<Held> held(InetAddress address, Protocol protocol, int port) {
                return Optional.empty();
            }

            @Override
            public int openPorts() {
                return 0;
            }
        };
    }

    // ---- nftables -------------------------------------------------------------------------------------------------

    /**
     * Interprets what NftRenderer writes: add element (create; on an element it holds, replace timeout and time left
     * but keep the comment, as nft 1.0.6 on kernel 6.18 does), delete (of a missing element fails the batch), flush.
     */
    static final class NftKernel implements NftExecutor {
        private static final Pattern BLOCK = Pattern.compile("(add|delete) element inet certknock (\\w+) \\{ (.*) \\}");
        private static final Pattern ITEM = Pattern.compile(
                "(\\S+) \\. (tcp|udp) \\. (\\d+)(?:-(\\d+))?(?: timeout (\\S+))?(?: expires (\\S+))?(?: comment \"([^\"]*)\")?");

        record Key(String set, InetAddress address, PortGrant ports) {
        }

        final Clock clock;
        final Map<Key, Held> elements = new LinkedHashMap<>();

        NftKernel(Clock clock) {
            this.clock = clock;
        }

        @Override
        public void apply(String script) throws FirewallException {
            Map<Key, Held> next = new LinkedHashMap<>(live());
            for (String line : script.split("\n")) {
                if (line.startsWith("flush set inet certknock ")) {
                    String set = line.substring("flush set inet certknock ".length()).strip();
                    next.keySet().removeIf(k -> k.set().equals(set));
                    continue;
                }
                Matcher m = BLOCK.matcher(line);
                if (!m.matches()) {
                    continue; // the table and chain set-up
                }
                for (String item : m.group(3).split(", ")) {
                    Matcher i = ITEM.matcher(item);
                    if (!i.matches()) {
                        throw new FirewallException("Error: syntax error in '" + item + "'", null);
                    }
                    Key key = key(m.group(2), i);
                    if (m.group(1).equals("delete")) {
                        if (next.remove(key) == null) {
                            throw new FirewallException("Error: Could not process rule: No such file or directory", null);
                        }
                    } else {
                        Instant until = clock.instant().plus(duration(i.group(6) != null ? i.group(6) : i.group(5)));
                        Held before = next.get(key);
                        next.put(key, new Held(until, before != null ? before.comment() : i.group(7)));
                    }
                }
            }
            elements.clear();
            elements.putAll(next); // one transaction: all or nothing
        }

        private static Key key(String set, Matcher i) throws FirewallException {
            try {
                int first = Integer.parseInt(i.group(3));
                int last = i.group(4) == null ? first : Integer.parseInt(i.group(4));
                return new Key(set, InetAddress.getByName(i.group(1)), new PortGrant(Protocol.parse(i.group(2)), first, last));
            } catch (Exception e) {
                throw new FirewallException("Error: " + e.getMessage(), e);
            }
        }

        private static Duration duration(String text) {
            return text.endsWith("ms") ? Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)))
                    : Duration.ofSeconds(Long.parseLong(text.substring(0, text.length() - 1)));
        }

        Map<Key, Held> live() {
            Instant now = clock.instant();
            elements.values().removeIf(h -> !h.until().isAfter(now));
            return elements;
        }

        @Override
        public void check(String script) {
        }

        @Override
        public String query(List<String> arguments) {
            Map<String, List<String>> bySet = new LinkedHashMap<>();
            Instant now = clock.instant();
            live().forEach((k, h) -> {
                PortGrant p = k.ports();
                String port = p.isSinglePort() ? Integer.toString(p.firstPort())
                        : "{\"range\": [" + p.firstPort() + ", " + p.lastPort() + "]}";
                long left = Duration.between(now, h.until()).toSeconds();
                bySet.computeIfAbsent(k.set(), s -> new ArrayList<>()).add("{\"elem\": {\"val\": {\"concat\": [\""
                        + AddressText.format(k.address()) + "\", \"" + p.protocol().label() + "\", " + port
                        + "]}, \"timeout\": " + left + ", \"expires\": " + left
                        + (h.comment() == null ? "" : ", \"comment\": \"" + h.comment() + "\"") + "}}");
            });
            List<String> sets = new ArrayList<>();
            bySet.forEach((set, elems) -> sets.add("{\"set\": {\"family\": \"inet\", \"name\": \"" + set
                    + "\", \"table\": \"certknock\", \"elem\": [" + String.join(", ", elems) + "]}}"));
            return "{\"nftables\": [" + String.join(", ", sets) + "]}";
        }
    }

    static Backend nftables(Clock clock) {
        NftKernel kernel = new NftKernel(clock);
        return new Backend() {
            @Override
            public String name() {
                return "nftables";
            }

            @Override
            public ElementWriter newWriter() {
                return new NftWriter(new NftSettings("certknock", 62201, List.of(PortGrant.parse("tcp/1-65535")), false,
                        List.of()), kernel);
            }

            @Override
            public boolean hasFirewall() {
                return true;
            }

            @Override
            public Optional<Held> held(InetAddress address, Protocol protocol, int port) {
                return kernel.live().entrySet().stream()
                        .filter(e -> e.getKey().address().equals(address) && e.getKey().ports().protocol() == protocol
                                && e.getKey().ports().firstPort() <= port && port <= e.getKey().ports().lastPort())
                        .map(Map.Entry::getValue).findFirst();
            }

            @Override
            public int openPorts() {
                return kernel.live().keySet().stream().mapToInt(k -> k.ports().portCount()).sum();
            }
        };
    }

    // ---- iptables -------------------------------------------------------------------------------------------------

    /** Interprets what the iptables writer runs: ipset restore (add -exist replaces timeout and comment, del -exist, flush) and save. */
    static final class IpsetKernel implements ProgramRunner {
        private static final Pattern ADD = Pattern.compile(
                "add (certknock[46]) (\\S+),(tcp|udp):(\\d+) timeout (\\d+) comment \"([^\"]*)\" -exist");
        private static final Pattern DEL = Pattern.compile("del (certknock[46]) (\\S+),(tcp|udp):(\\d+) -exist");

        record Entry(String set, InetAddress address, Protocol protocol, int port) {
        }

        final Clock clock;
        final Map<Entry, Held> entries = new LinkedHashMap<>();

        IpsetKernel(Clock clock) {
            this.clock = clock;
        }

        Map<Entry, Held> live() {
            Instant now = clock.instant();
            entries.values().removeIf(h -> !h.until().isAfter(now));
            return entries;
        }

        @Override
        public ProcessRunner.Result run(List<String> argv, String stdin) throws ProcessRunner.RunException {
            if (argv.get(0).equals("ipset") && argv.contains("restore")) {
                live();
                for (String line : stdin == null ? new String[0] : stdin.split("\n")) {
                    Matcher a = ADD.matcher(line);
                    Matcher d = DEL.matcher(line);
                    try {
                        if (a.matches()) {
                            Entry e = new Entry(a.group(1), InetAddress.getByName(a.group(2)), Protocol.parse(a.group(3)),
                                    Integer.parseInt(a.group(4)));
                            // add -exist replaces timeout and comment (ipset 7.17)
                            entries.put(e, new Held(clock.instant().plusSeconds(Long.parseLong(a.group(5))), a.group(6)));
                        } else if (d.matches()) {
                            entries.remove(new Entry(d.group(1), InetAddress.getByName(d.group(2)),
                                    Protocol.parse(d.group(3)), Integer.parseInt(d.group(4))));
                        } else if (line.startsWith("flush ")) {
                            String set = line.substring(6).strip();
                            entries.keySet().removeIf(e -> e.set().equals(set));
                        }
                    } catch (Exception ex) {
                        return new ProcessRunner.Result(argv, 1, "", "ipset v7: " + ex.getMessage(), false);
                    }
                }
                return new ProcessRunner.Result(argv, 0, "", "", false);
            }
            if (argv.get(0).equals("ipset") && argv.contains("save")) {
                String set = argv.get(argv.size() - 1);
                StringBuilder out = new StringBuilder("create " + set + " hash:ip,port family inet timeout 0 comment\n");
                Instant now = clock.instant();
                live().forEach((e, h) -> {
                    if (e.set().equals(set)) {
                        out.append("add ").append(set).append(' ').append(AddressText.format(e.address())).append(',')
                                .append(e.protocol().label()).append(':').append(e.port()).append(" timeout ")
                                .append(Duration.between(now, h.until()).toSeconds()).append(" comment \"")
                                .append(h.comment()).append("\"\n");
                    }
                });
                return new ProcessRunner.Result(argv, 0, out.toString(), "", false);
            }
            // iptables-restore, iptables -C (the jump exists), ipset list: nothing to model
            return new ProcessRunner.Result(argv, 0, "", "", false);
        }
    }

    static Backend iptables(Clock clock) {
        IpsetKernel kernel = new IpsetKernel(clock);
        return new Backend() {
            @Override
            public String name() {
                return "iptables";
            }

            @Override
            public ElementWriter newWriter() {
                return new IptablesWriter(IptablesSettings.of(62201, List.of(PortGrant.parse("tcp/1-65535"))), kernel,
                        clock);
            }

            @Override
            public boolean hasFirewall() {
                return true;
            }

            @Override
            public Optional<Held> held(InetAddress address, Protocol protocol, int port) {
                return kernel.live().entrySet().stream()
                        .filter(e -> e.getKey().address().equals(address) && e.getKey().protocol() == protocol
                                && e.getKey().port() == port)
                        .map(Map.Entry::getValue).findFirst();
            }

            @Override
            public int openPorts() {
                return kernel.live().size();
            }
        };
    }

    // ---- command --------------------------------------------------------------------------------------------------

    /**
     * A firewall driven by the command templates {@code fw open ADDRESS PROTOCOL PORTS SECONDS} and
     * {@code fw close ADDRESS PROTOCOL PORTS}: it holds what was opened until it is closed (it expires nothing).
     */
    static final class CommandTarget implements ProgramRunner {
        record Rule(InetAddress address, PortGrant ports) {
        }

        final Map<Rule, Long> rules = new LinkedHashMap<>();
        final List<String> calls = new ArrayList<>();

        @Override
        public ProcessRunner.Result run(List<String> argv, String stdin) throws ProcessRunner.RunException {
            calls.add(String.join(" ", argv));
            try {
                Rule rule = new Rule(InetAddress.getByName(argv.get(2)), PortGrant.parse(argv.get(3) + "/" + argv.get(4)));
                if (argv.get(1).equals("open")) {
                    rules.put(rule, Long.parseLong(argv.get(5)));
                } else {
                    rules.remove(rule);
                }
                return new ProcessRunner.Result(argv, 0, "", "", false);
            } catch (Exception e) {
                return new ProcessRunner.Result(argv, 2, "", e.toString(), false);
            }
        }
    }

    static Backend command(Clock clock, Path stateFile) {
        CommandTarget target = new CommandTarget();
        CommandSettings settings = CommandSettings.of(
                CommandTemplate.parse("open", List.of("fw", "open", "{address}", "{protocol}", "{ports}", "{seconds}")),
                CommandTemplate.parse("close", List.of("fw", "close", "{address}", "{protocol}", "{ports}")), stateFile);
        return new Backend() {
            @Override
            public String name() {
                return "command";
            }

            @Override
            public ElementWriter newWriter() {
                return new CommandWriter(settings, target, clock);
            }

            @Override
            public boolean hasFirewall() {
                return true;
            }

            @Override
            public Optional<Held> held(InetAddress address, Protocol protocol, int port) {
                // the target expires nothing: the ledger closes on time; no comment reaches it (the state file has it)
                return target.rules.keySet().stream()
                        .filter(r -> r.address().equals(address) && r.ports().protocol() == protocol
                                && r.ports().firstPort() <= port && port <= r.ports().lastPort())
                        .findFirst().map(r -> new Held(Instant.MAX, null));
            }

            @Override
            public int openPorts() {
                return target.rules.keySet().stream().mapToInt(r -> r.ports().portCount()).sum();
            }
        };
    }
}
