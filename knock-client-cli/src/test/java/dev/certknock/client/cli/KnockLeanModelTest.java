package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.cli.CommandRunner;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The lean model a knock is parsed with (DESIGN.md D42) against the annotated model it stands for: the same options
 * and positional parameters with the same parsing properties, and the same values in the same fields for every
 * command line, so that an option added to {@code KnockCommand}, {@code KnockArgs} or {@code TokenArgs} and not to
 * {@link KnockLeanModel} (or the other way round) fails here.
 */
class KnockLeanModelTest {

    @TempDir
    static Path tmp;

    private static KnockCommand command() {
        return new KnockCommand(CliContext.of(Map.of(), InputStream.nullInputStream(), OutputStream.nullOutputStream(),
                tmp));
    }

    private static CommandSpec annotated(KnockCommand c) {
        return new CommandLine(c).getCommandSpec();
    }

    /** What parsing depends on, for one option or positional parameter. */
    private static Map<String, Object> parsing(ArgSpec a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arity", a.arity().toString());
        m.put("type", a.type());
        m.put("auxiliaryTypes", List.of(a.auxiliaryTypes()));
        m.put("defaultValue", a.defaultValue());
        m.put("initialValue", a.initialValue());
        m.put("splitRegex", a.splitRegex());
        m.put("required", a.required());
        m.put("interactive", a.interactive());
        m.put("preprocessor", a.preprocessor().getClass());
        m.put("parameterConsumer", a.parameterConsumer() == null ? null : a.parameterConsumer().getClass());
        m.put("converters", a.converters().length);
        if (a instanceof OptionSpec o) {
            m.put("names", List.of(o.names()));
            m.put("fallbackValue", o.fallbackValue());
            m.put("negatable", o.negatable());
            m.put("usageHelp", o.usageHelp());
            m.put("versionHelp", o.versionHelp());
        }
        if (a instanceof PositionalParamSpec p) {
            m.put("index", p.index().toString());
        }
        return m;
    }

    private static Map<String, Map<String, Object>> options(CommandSpec spec) {
        Map<String, Map<String, Object>> m = new TreeMap<>();
        for (OptionSpec o : spec.options()) {
            m.put(o.longestName(), parsing(o));
        }
        return m;
    }

    private static List<Map<String, Object>> positionals(CommandSpec spec) {
        List<Map<String, Object>> l = new ArrayList<>();
        for (PositionalParamSpec p : spec.positionalParameters()) {
            l.add(parsing(p));
        }
        return l;
    }

    @Test
    void everyOptionAndParameterParsesAsItsAnnotationSays() throws Exception {
        CommandSpec lean = KnockLeanModel.of(command());
        CommandSpec full = annotated(command());
        assertThat(options(lean)).isEqualTo(options(full));
        assertThat(positionals(lean)).isEqualTo(positionals(full));
        assertThat(lean.name()).isEqualTo(full.name());
        assertThat(state(lean.parser())).isEqualTo(state(full.parser()));
        assertThat(lean.subcommands()).isEmpty();
        assertThat(lean.versionProvider().getClass()).isEqualTo(full.versionProvider().getClass());
    }

    private static CommandSpec annotatedSshProxy(KnockCommand c) {
        CommandLine cl = new CommandLine(c);
        cl.addSubcommand(SshProxyCommand.class);
        return cl.getSubcommands().get("ssh-proxy").getCommandSpec();
    }

    @Test
    void sshProxyParsesAsItsAnnotationsSay() throws Exception {
        CommandSpec lean = KnockLeanModel.withSshProxy(command());
        CommandSpec sub = lean.subcommands().get("ssh-proxy").getCommandSpec();
        CommandSpec full = annotatedSshProxy(command());
        assertThat(options(sub)).isEqualTo(options(full));
        assertThat(positionals(sub)).isEqualTo(positionals(full));
        assertThat(sub.name()).isEqualTo(full.name());
        assertThat(state(sub.parser())).isEqualTo(state(full.parser()));
        // The knock's own model is the same with ssh-proxy beside it.
        assertThat(options(lean)).isEqualTo(options(KnockLeanModel.of(command())));
        assertThat(lean.subcommands().keySet()).containsExactly("ssh-proxy");
    }

    static Stream<List<String>> sshProxyLines() {
        return Stream.of(
                List.of("ssh-proxy", "gw1", "22"),
                List.of("ssh-proxy", "gw1", "2222", "tcp/2222", "udp/60000-61000", "--timeout", "5"),
                List.of("ssh-proxy", "--bundle", "a.p12", "gw1", "22", "--server-cert=gw1.pem", "--alias", "k",
                        "--server-name", "gw", "--ca-cert", "ca.pem", "--password-file", "p", "--knock-port", "1",
                        "-4", "--duration", "30", "--declare-ip", "10.0.0.1", "--protocol", "2", "--no-reply",
                        "--targets", "t.yaml", "--no-address-cache", "-v"),
                List.of("ssh-proxy", "gw1", "22", "--password-env", "PW", "-6", "--reply-timeout", "0.5",
                        "--address-cache", "c.json", "--pkcs11-module", "m.so", "--token-label", "t", "--key-label",
                        "k", "--pin-file", "pin", "--pin-env", "PIN", "--verbose"),
                List.of("-v", "ssh-proxy", "gw1", "22"),
                List.of("ssh-proxy", "gw1", "22", "--help"),
                List.of("ssh-proxy", "gw1", "22", "-V"),
                List.of("ssh-proxy", "gw1"),
                List.of("ssh-proxy", "gw1", "port"),
                List.of("ssh-proxy", "gw1", "22", "--timeout"),
                List.of("ssh-proxy", "gw1", "22", "--wait"),
                List.of("gw1", "ssh-proxy"),
                List.of("gw1", "--alias", "ssh-proxy"));
    }

    private static Map<String, Object> proxyFields(SshProxyCommand p) throws IllegalAccessException {
        return fields(p, SshProxyCommand.class, p.args, "spec", "parent", "args");
    }

    @Test
    void theSubcommandNamesAreTheAnnotationsOnes() {
        assertThat(KnockCommand.SUBCOMMAND_NAMES).isEqualTo(CommandRunner.subcommandNames(KnockCommand.SUBCOMMANDS));
    }

    /** Command lines that use every option at least once, and the shapes picocli treats specially. */
    static Stream<List<String>> commandLines() {
        return Stream.of(
                List.of("gw1"),
                List.of("gw1", "tcp/22", "udp/8000-8100", "--dry-run"),
                List.of("--bundle", "a.p12", "gw1", "--server-cert=gw1.pem", "--alias", "k", "--server-name", "gw",
                        "--ca-cert", "ca.pem", "--password-file", "p", "--knock-port", "62201", "-4", "--duration", "30",
                        "--declare-ip", "10.0.0.1", "--declare-ip", "::1", "--protocol", "1", "--no-reply", "--targets",
                        "t.yaml", "--no-address-cache", "-v"),
                List.of("gw1", "--password-env", "PW", "-6", "--reply-timeout", "0.5", "--address-cache", "c.json",
                        "--verbose", "--require-reply", "--save-packet", "out.bin"),
                List.of("gw1", "--pkcs11-module", "/usr/lib/x.so", "--token-label", "t", "--key-label", "k", "--pin-file",
                        "pin", "--pin-env", "PIN"),
                List.of("gw1", "--wait"),
                List.of("gw1", "--wait", "tcp/22"),
                List.of("gw1", "--wait", "12", "tcp/22"),
                List.of("gw1", "--wait=7"),
                List.of("gw1", "tcp/22", "--", "--dry-run"),
                List.of("-v4", "gw1"),
                List.of("gw1", "--version"),
                List.of("--help", "gw1"),
                // usage errors: both models refuse them alike
                List.of("gw1", "--bundle"),
                List.of("gw1", "--no-such-option"),
                List.of("gw1", "--knock-port", "port"),
                List.of("gw1", "--wait=soon"),
                List.of("gw1", "--dry-run=false"),
                List.of("gw1", "-4", "-4"));
    }

    /**
     * Each command line through the lean model {@link KnockCommand#run} picks for it (with {@code ssh-proxy} when an
     * argument names it) and through the annotated model: the same outcome, and after a parse the same values in the
     * knock's fields and, for {@code ssh-proxy}, in its own and its parent's.
     */
    @ParameterizedTest
    @MethodSource({"commandLines", "sshProxyLines"})
    void parsesIntoTheSameFieldsAsTheAnnotatedModel(List<String> args) throws Exception {
        boolean sshProxy = args.contains(KnockCommand.SSH_PROXY);
        KnockCommand viaLean = command();
        KnockCommand viaFull = command();
        CommandLine lean = new CommandLine(sshProxy ? KnockLeanModel.withSshProxy(viaLean) : KnockLeanModel.of(viaLean));
        CommandLine full = new CommandLine(viaFull);
        if (sshProxy) {
            full.addSubcommand(SshProxyCommand.class);
        }
        String leanOutcome = parse(lean, args);
        String fullOutcome = parse(full, args);
        assertThat(leanOutcome).as("outcome of %s", args).isEqualTo(fullOutcome);
        if (leanOutcome.endsWith("Exception")) {
            return;
        }
        assertThat(fields(viaLean)).as("fields after %s", args).isEqualTo(fields(viaFull));
        if (sshProxy) {
            Object leanProxy = lean.getSubcommands().get("ssh-proxy").getCommandSpec().userObject();
            Object fullProxy = full.getSubcommands().get("ssh-proxy").getCommandSpec().userObject();
            assertThat(proxyFields((SshProxyCommand) leanProxy)).as("ssh-proxy's fields after %s", args)
                    .isEqualTo(proxyFields((SshProxyCommand) fullProxy));
            assertThat(((SshProxyCommand) leanProxy).parent).isSameAs(viaLean);
        }
    }

    @Test
    void theFieldsComparedAreTheOnesThatHoldOptions() throws Exception {
        KnockCommand c = command();
        parse(new CommandLine(KnockLeanModel.of(c)), List.of("gw1", "--bundle", "a.p12", "--pin-env", "PIN", "--wait"));
        Map<String, Object> f = fields(c);
        assertThat(f).containsEntry("KnockCommand.target", "gw1").containsEntry("KnockArgs.bundle", Path.of("a.p12"))
                .containsEntry("TokenArgs.pinEnv", "PIN").containsEntry("KnockCommand.waitSeconds", 30);
        assertThat(f.keySet()).contains("KnockArgs.declare", "KnockArgs.verbose", "TokenArgs.module",
                "KnockCommand.grants", "KnockCommand.requireReply");
    }

    /** Every field of a picocli settings object (the parser's), by name. */
    private static Map<String, Object> state(Object o) throws IllegalAccessException {
        Map<String, Object> m = new TreeMap<>();
        put(m, o, o.getClass());
        return m;
    }

    private static String parse(CommandLine cl, List<String> args) {
        try {
            CommandLine.ParseResult r = cl.parseArgs(args.toArray(String[]::new));
            String sub = r.hasSubcommand() ? " " + r.subcommand().commandSpec().name()
                    + (r.subcommand().isUsageHelpRequested() ? " help" : "")
                    + (r.subcommand().isVersionHelpRequested() ? " version" : "") : "";
            return (r.isUsageHelpRequested() ? "help" : r.isVersionHelpRequested() ? "version" : "parsed") + sub;
        } catch (CommandLine.ParameterException e) {
            // The lean model's own message is never shown: a parse error is parsed again by the full model (D35),
            // whose message names the option's label. What must agree is that, and how, parsing fails.
            return e.getClass().getSimpleName();
        }
    }

    /** Every option-holding field of the command and its mixins, by class and name. */
    private static Map<String, Object> fields(KnockCommand c) throws IllegalAccessException {
        return fields(c, KnockCommand.class, c.args, "spec", "context", "args");
    }

    /** The fields of {@code command} (but {@code skipped}), of its {@code KnockArgs} mixin and of that one's token. */
    private static Map<String, Object> fields(Object command, Class<?> type, KnockArgs args, String... skipped)
            throws IllegalAccessException {
        Map<String, Object> m = new TreeMap<>();
        put(m, command, type, skipped);
        put(m, args, KnockArgs.class, "token");
        put(m, args.token, TokenArgs.class);
        return m;
    }

    private static void put(Map<String, Object> m, Object holder, Class<?> type, String... skipped)
            throws IllegalAccessException {
        for (Field f : type.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) || Arrays.asList(skipped).contains(f.getName())) {
                continue;
            }
            f.setAccessible(true);
            m.put(type.getSimpleName() + "." + f.getName(), f.get(holder));
        }
    }
}
