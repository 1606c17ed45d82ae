package dev.certknock.testing.help;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * Checks a tool's {@code --help} as a user sees it at 80 columns: every example line of every command's footer (a
 * line that starts with whitespace, after picocli's {@code %n}/{@code %%} formatting) appears whole, as one line
 * of the output, so pasting it works; and no other line is wider than 80 columns.
 */
public final class HelpChecks {

    /** The width picocli lays the help out at when nothing sets another. */
    public static final int WIDTH = 80;

    private HelpChecks() {
    }

    /**
     * Renders {@code --help} of {@code root} and of every command below it through {@code help} (which gets the
     * arguments, e.g. {@code [target, add, --help]}, and returns what the tool printed) and returns the problems
     * found, one line each; empty when there are none. Also fails when a command has no example to check, so that
     * a tree without footers does not pass unnoticed.
     */
    public static List<String> problems(CommandLine root, Function<String[], String> help) {
        List<String> problems = new ArrayList<>();
        int[] examples = new int[1];
        walk(root, new ArrayList<>(), help, problems, examples);
        if (examples[0] == 0) {
            problems.add(root.getCommandName() + ": no example lines found to check");
        }
        return problems;
    }

    private static void walk(CommandLine line, List<String> path, Function<String[], String> help,
            List<String> problems, int[] examples) {
        if (!line.getCommandSpec().usageMessage().hidden()) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            String out = help.apply(args.toArray(String[]::new));
            List<String> shown = Arrays.asList(out.split("\\R", -1));
            List<String> exampleLines = new ArrayList<>();
            for (String element : line.getCommandSpec().usageMessage().footer()) {
                for (String l : String.format(element).split("\\R", -1)) {
                    if (!l.isBlank() && Character.isWhitespace(l.charAt(0))) {
                        exampleLines.add(l.stripTrailing());
                    }
                }
            }
            String name = String.join(" ", path);
            for (String example : exampleLines) {
                examples[0]++;
                if (!shown.contains(example)) {
                    problems.add("'" + name + " --help' breaks the example line: " + example);
                }
            }
            for (String s : shown) {
                if (s.length() > WIDTH && !exampleLines.contains(s)) {
                    problems.add("'" + name + " --help' has a line wider than " + WIDTH + " columns: " + s);
                }
            }
        }
        for (java.util.Map.Entry<String, CommandLine> sub : line.getSubcommands().entrySet()) {
            if (!sub.getKey().equals(sub.getValue().getCommandName())) {
                continue; // an alias
            }
            List<String> subPath = new ArrayList<>(path);
            subPath.add(sub.getKey());
            walk(sub.getValue(), subPath, help, problems, examples);
        }
    }
}
