// nook's entry point. Parses the command line with clipanion, runs the command,
// and exits with its status. A command line clipanion cannot match is one line
// on stderr and exit status 2; nothing here prints a stack trace for it.
import { Builtins, Cli, Command, type BaseContext } from "clipanion";
import { EXIT_USAGE } from "../lib/errors.js";
import { trace } from "../lib/trace.js";
import { ImageInspectCommand } from "./commands/image/inspect.js";
import { ImagePruneCommand } from "./commands/image/prune.js";
import { ImagesCommand } from "./commands/images.js";
import { LoadCommand } from "./commands/load.js";
import { LoginCommand, LogoutCommand } from "./commands/login.js";
import { PullCommand } from "./commands/pull.js";
import { RmiCommand } from "./commands/rmi.js";
import { RunCommand } from "./commands/run.js";
import { CreateCommand } from "./commands/create.js";
import { AttachCommand } from "./commands/container/attach.js";
import { ExecCommand } from "./commands/container/exec.js";
import { InspectCommand } from "./commands/container/inspect.js";
import { ContainerPruneCommand } from "./commands/container/prune.js";
import { RestartCommand } from "./commands/container/restart.js";
import { PortCommand } from "./commands/container/port.js";
import { TopCommand } from "./commands/container/top.js";
import { KillCommand } from "./commands/container/kill.js";
import { LogsCommand } from "./commands/container/logs.js";
import { PsCommand } from "./commands/container/ps.js";
import { RmCommand } from "./commands/container/rm.js";
import { StartCommand } from "./commands/container/start.js";
import { StatsCommand } from "./commands/container/stats.js";
import { UpdateCommand } from "./commands/container/update.js";
import { StopCommand } from "./commands/container/stop.js";
import { WaitCommand } from "./commands/container/wait.js";
import { InfoCommand } from "./commands/info.js";
import { OciCommand } from "./commands/oci.js";
import { DoctorCommand } from "./commands/doctor.js";
import { SaveCommand } from "./commands/save.js";
import { SystemDfCommand } from "./commands/system/df.js";
import { SystemResetCommand } from "./commands/system/reset.js";
import { TagCommand } from "./commands/tag.js";
import { UnshareCommand } from "./commands/unshare.js";
import { usageErrorLine, type SyntaxErrorLike } from "./usage-error.js";

declare const NOOK_VERSION: string;
const version = typeof NOOK_VERSION === "string" ? NOOK_VERSION : "0.0.0-dev";

class DefaultCommand extends Command {
  static override paths = [Command.Default];
  async execute(): Promise<number> {
    this.context.stdout.write(this.cli.usage(null));
    return 0;
  }
}

/** Every command, in the order `nook --help` lists them. */
const COMMANDS = [
  RunCommand,
  CreateCommand,
  StartCommand,
  PsCommand,
  LogsCommand,
  StopCommand,
  KillCommand,
  RmCommand,
  WaitCommand,
  ExecCommand,
  AttachCommand,
  InspectCommand,
  ContainerPruneCommand,
  RestartCommand,
  TopCommand,
  StatsCommand,
  UpdateCommand,
  PortCommand,
  InfoCommand,
  DoctorCommand,
  PullCommand,
  ImagesCommand,
  ImageInspectCommand,
  TagCommand,
  RmiCommand,
  LoadCommand,
  SaveCommand,
  ImagePruneCommand,
  SystemDfCommand,
  SystemResetCommand,
  LoginCommand,
  LogoutCommand,
  UnshareCommand,
  OciCommand,
];

/**
 * The commands a command line can name: those whose path starts with its
 * first word, or all of them when none does (help, a typo's suggestions).
 * clipanion builds one state machine over every option of every command it
 * knows before parsing, which costs `nook run` tens of milliseconds with
 * all of them; the first word narrows it to one or two.
 */
export const commandsFor = (argv: readonly string[]): (typeof COMMANDS)[number][] => {
  const first = argv[0];
  if (first === "--version" || first === "-v") return [];
  const named = COMMANDS.filter((c) => c.paths?.some((p) => p[0] === first));
  return named.length > 0 ? named : COMMANDS;
};

export const buildCli = (argv: readonly string[] = []): Cli => {
  const cli = new Cli({
    binaryLabel: "nook",
    binaryName: "nook",
    binaryVersion: version,
    enableCapture: false,
    // Colour only for a terminal, and never with NO_COLOR (no-color.org).
    enableColors: process.stdout.isTTY === true && !process.env.NO_COLOR,
  });
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  cli.register(DefaultCommand);
  for (const c of commandsFor(argv)) cli.register(c);
  return cli;
};

/**
 * Global options before the command (Podman's): --root DIR (the store) and
 * --runroot DIR (sockets). They reach app/locations.ts, and the nooks this
 * one runs, through the environment; the rest of argv is the command's.
 */
const GLOBALS: Readonly<Record<string, string>> = {
  "--root": "_NOOK_ROOT_FLAG",
  "--runroot": "_NOOK_RUNROOT_FLAG",
};

export const takeGlobalOptions = (
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { argv: string[] } | { error: string } => {
  let i = 0;
  for (;;) {
    const word = argv[i] ?? "";
    const eq = word.indexOf("=");
    const name = eq < 0 ? word : word.slice(0, eq);
    const variable = GLOBALS[name];
    if (variable === undefined) return { argv: argv.slice(i) };
    const value = eq < 0 ? argv[i + 1] : word.slice(eq + 1);
    if (value === undefined || !value.startsWith("/")) return { error: `${name} needs an absolute path` };
    env[variable] = value;
    i += eq < 0 ? 2 : 1;
  }
};

export const main = async (args: string[], context: BaseContext = Cli.defaultContext): Promise<number> => {
  trace(`main ${args.join(" ")}`);
  const taken = takeGlobalOptions(args, process.env);
  if ("error" in taken) {
    context.stderr.write(`nook: ${taken.error}\n`);
    return EXIT_USAGE;
  }
  const argv = taken.argv;
  const cli = buildCli(argv);
  let command: Command<BaseContext>;
  try {
    command = cli.process(argv, context);
  } catch (e) {
    context.stderr.write(`nook: ${usageErrorLine(e as SyntaxErrorLike, argv)}\n`);
    return EXIT_USAGE;
  }
  trace("command line parsed");
  return cli.run(command, context);
};
