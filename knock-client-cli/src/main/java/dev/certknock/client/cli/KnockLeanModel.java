package dev.certknock.client.cli;

import dev.certknock.cli.ManifestVersionProvider;
import java.lang.reflect.Field;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.IGetter;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The model a knock is parsed with (DESIGN.md D42): the {@code knock} command's options, positional parameters and
 * mixins as picocli's annotations on {@link KnockCommand}, {@link KnockArgs} and {@link TokenArgs} declare them,
 * built through picocli's programmatic API instead of reading those annotations. Reading them costs a cold start
 * some 25 ms (an annotation proxy class made at run time for each annotation type, and picocli's reflection over
 * every member), and {@code knock} runs before every {@code ssh}.
 *
 * <p>Only what parsing needs is here: the names, arity, fallback value and preprocessor of each option, bound to
 * the same field that the annotation is on (the type comes from the field). Descriptions, labels and everything
 * else that help and error messages show stay with the annotations: usage help and every parse error are handled
 * by the full annotated model ({@code CommandRunner}, D35), which parses the command line again. The annotations
 * are the reference: {@code KnockLeanModelTest} compares this model with the annotated one option by option and
 * parses the same command lines through both, so an option added to one and not the other fails the build.
 */
final class KnockLeanModel {

    private KnockLeanModel() {
    }

    /** A model that parses into {@code command} (its mixins are made here, as picocli would). */
    static CommandSpec of(KnockCommand command) {
        KnockArgs args = new KnockArgs();
        command.args = args;
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command).name("knock")
                .versionProvider(new ManifestVersionProvider());
        command.spec = spec;
        helpOptions(spec);

        spec.addPositional(bind(PositionalParamSpec.builder().index("0").arity("0..1"), command, "target").build());
        spec.addPositional(bind(PositionalParamSpec.builder().index("1..*").arity("0..1"), command, "grants").build());
        spec.addOption(bind(OptionSpec.builder("--wait").arity("0..1").fallbackValue(
                String.valueOf(KnockCommand.DEFAULT_WAIT_SECONDS)).preprocessor(new KnockCommand.WaitSeconds()),
                command, "waitSeconds").build());
        option(spec, command, "savePacket", "--save-packet");
        option(spec, command, "dryRun", "--dry-run");
        option(spec, command, "requireReply", "--require-reply");

        knockArgs(spec, args);
        return spec;
    }

    /**
     * {@link #of} with the {@code ssh-proxy} subcommand, for a command line that names it: the other command users run
     * before every {@code ssh} (as its ProxyCommand). Its options and parameters as {@link SshProxyCommand}'s
     * annotations declare them, bound to a new instance whose parent is {@code command}.
     */
    static CommandSpec withSshProxy(KnockCommand command) {
        CommandSpec spec = of(command);
        SshProxyCommand proxy = new SshProxyCommand();
        proxy.parent = command;
        KnockArgs args = new KnockArgs();
        proxy.args = args;
        CommandSpec sub = CommandSpec.wrapWithoutInspection(proxy).name(KnockCommand.SSH_PROXY);
        proxy.spec = sub;
        helpOptions(sub);
        sub.addPositional(bind(PositionalParamSpec.builder().index("0").required(true), proxy, "target").build());
        sub.addPositional(bind(PositionalParamSpec.builder().index("1").required(true), proxy, "port").build());
        sub.addPositional(bind(PositionalParamSpec.builder().index("2..*").arity("0..1"), proxy, "grants").build());
        knockArgs(sub, args);
        sub.addOption(bind(OptionSpec.builder("--timeout").defaultValue("30"), proxy, "timeoutSeconds").build());
        spec.addSubcommand(KnockCommand.SSH_PROXY, sub);
        return spec;
    }

    private static void helpOptions(CommandSpec spec) {
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).initialValue(false).build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true).initialValue(false).build());
    }

    /** The options of the {@link KnockArgs} mixin (and its {@link TokenArgs}), bound to {@code args}. */
    private static void knockArgs(CommandSpec spec, KnockArgs args) {
        TokenArgs token = args.token;
        option(spec, args, "bundle", "--bundle");
        option(spec, args, "alias", "--alias");
        option(spec, args, "serverCert", "--server-cert");
        option(spec, args, "serverName", "--server-name");
        option(spec, args, "caCert", "--ca-cert");
        option(spec, args, "passwordFile", "--password-file");
        option(spec, args, "passwordEnv", "--password-env");
        option(spec, args, "knockPort", "--knock-port");
        option(spec, args, "ipv4", "-4");
        option(spec, args, "ipv6", "-6");
        option(spec, args, "duration", "--duration");
        option(spec, args, "declare", "--declare-ip");
        option(spec, args, "protocol", "--protocol");
        option(spec, args, "replyTimeout", "--reply-timeout");
        option(spec, args, "noReply", "--no-reply");
        option(spec, args, "addressCache", "--address-cache");
        option(spec, args, "noAddressCache", "--no-address-cache");
        option(spec, args, "targets", "--targets");
        option(spec, token, "module", "--pkcs11-module");
        option(spec, token, "tokenLabel", "--token-label");
        option(spec, token, "keyLabel", "--key-label");
        option(spec, token, "pinFile", "--pin-file");
        option(spec, token, "pinEnv", "--pin-env");
        option(spec, args, "verbose", "-v", "--verbose");
    }

    private static void option(CommandSpec spec, Object holder, String field, String... names) {
        spec.addOption(bind(OptionSpec.builder(names), holder, field).build());
    }

    /** Binds an option to {@code holder}'s field: its type, its element type for a list, reads and writes. */
    private static OptionSpec.Builder bind(OptionSpec.Builder builder, Object holder, String name) {
        FieldRef ref = FieldRef.of(holder, name);
        return builder.type(ref.field.getType()).auxiliaryTypes(ref.elementTypes()).getter(ref).setter(ref)
                .initialValue(ref.initialValue());
    }

    /** As above, for a positional parameter (picocli's common builder type is not public). */
    private static PositionalParamSpec.Builder bind(PositionalParamSpec.Builder builder, Object holder, String name) {
        FieldRef ref = FieldRef.of(holder, name);
        return builder.type(ref.field.getType()).auxiliaryTypes(ref.elementTypes()).getter(ref).setter(ref)
                .initialValue(ref.initialValue());
    }

    /** One field of one object, as picocli reads and writes an annotated field (its own binding is not public). */
    private static final class FieldRef implements IGetter, ISetter {
        final Object holder;
        final Field field;

        private FieldRef(Object holder, Field field) {
            this.holder = holder;
            this.field = field;
        }

        static FieldRef of(Object holder, String name) {
            try {
                return new FieldRef(holder, holder.getClass().getDeclaredField(name));
            } catch (NoSuchFieldException e) {
                throw new IllegalStateException("no field " + name + " in " + holder.getClass(), e);
            }
        }

        /**
         * The field's value now, before parsing: picocli sets every option back to its initial value before it
         * parses, as it does for an annotated field, whose initial value it reads the same way.
         */
        Object initialValue() {
            try {
                return field.get(holder);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot read " + field, e);
            }
        }

        /** A list's element type (what picocli converts each value to); none for a single value. */
        Class<?>[] elementTypes() {
            Type generic = field.getGenericType();
            if (!(generic instanceof ParameterizedType p)) {
                return new Class<?>[0];
            }
            Type[] arguments = p.getActualTypeArguments();
            Class<?>[] types = new Class<?>[arguments.length];
            for (int i = 0; i < arguments.length; i++) {
                types[i] = (Class<?>) arguments[i];
            }
            return types;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T get() throws IllegalAccessException {
            return (T) field.get(holder);
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T set(T value) throws IllegalAccessException {
            T previous = (T) field.get(holder);
            field.set(holder, value);
            return previous;
        }
    }
}
