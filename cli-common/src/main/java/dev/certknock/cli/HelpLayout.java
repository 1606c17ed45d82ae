package dev.certknock.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.IHelpSectionRenderer;

/**
 * How every certknock tool lays out the footer of its help (the examples): a line that starts with whitespace (an
 * example, a continuation, a table row) is printed whole, never wrapped, so that pasting it from the terminal works
 * even where it is wider than the help; any other line is wrapped at whole words to the help's width (80 columns).
 * picocli's own footer wrapped every line at the width, which split examples across lines without their
 * indentation ({@code --out} at the end of one line, {@code alice.p12} alone on the next).
 */
public final class HelpLayout {

    private static final IHelpSectionRenderer FOOTER = HelpLayout::footer;

    private HelpLayout() {
    }

    /** Uses this layout for {@code line} and every subcommand below it (those registered now). */
    public static void apply(CommandLine line) {
        line.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_FOOTER, FOOTER);
        for (CommandLine sub : line.getSubcommands().values()) {
            apply(sub);
        }
    }

    static String footer(Help help) {
        String[] footer = help.commandSpec().usageMessage().footer();
        if (footer.length == 0) {
            return "";
        }
        // picocli's own columns leave the last one free (a full line makes some terminals add an empty one).
        int width = help.commandSpec().usageMessage().width() - 1;
        StringBuilder sb = new StringBuilder();
        for (String element : footer) {
            // picocli's format: %n is a line break, %% a percent sign (ProxyCommand='knock ssh-proxy gw1 %%p').
            String text = String.format(element);
            for (String line : lines(text)) {
                layout(help.colorScheme().text(line).toString(), width, sb);
            }
        }
        return sb.toString();
    }

    /** The lines of {@code text}, as picocli shows them: a final line break ends with an empty line. */
    private static List<String> lines(String text) {
        return List.of(text.split("\\R", -1));
    }

    private static void layout(String line, int width, StringBuilder sb) {
        String nl = System.lineSeparator();
        if (line.isEmpty() || Character.isWhitespace(line.charAt(0)) || line.length() <= width) {
            sb.append(stripTrailing(line)).append(nl);
            return;
        }
        StringBuilder current = new StringBuilder();
        for (String word : line.trim().split(" +")) {
            if (current.length() > 0 && current.length() + 1 + word.length() > width) {
                sb.append(current).append(nl);
                current.setLength(0);
            }
            if (current.length() > 0) {
                current.append(' ');
            }
            current.append(word);
        }
        sb.append(current).append(nl);
    }

    private static String stripTrailing(String s) {
        int end = s.length();
        while (end > 0 && Character.isWhitespace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }
}
