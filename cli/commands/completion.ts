/**
 * `conductor completion bash|zsh`: a completion script made from the command table itself (every command, alias and
 * option, `submit`'s being sbatch's), so it cannot fall behind. Install: `source <(conductor completion bash)` in
 * ~/.bashrc; for zsh, `source <(conductor completion zsh)` in ~/.zshrc (it uses zsh's bash-completion layer).
 */
import type { Command } from 'commander';
import { SBATCH_OPTIONS } from '../../shared/job/sbatch-options.js';
import { UsageError } from '../cli-error.js';
import { runAction } from '../command-context.js';
import { CLIENT_OPTIONS } from '../submit-argv.js';

export function completionCommand(program: Command): void {
  program
    .command('completion')
    .argument('<shell>', 'bash or zsh')
    .description('print a shell completion script')
    .action((shell: string) =>
      runAction(async () => {
        if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`completion ${shell}: bash or zsh`);
        process.stdout.write(completionScript(program, shell));
      }),
    );
}

function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const words = new Map<string, string[]>();
  for (const command of program.commands) {
    const options = command.options.flatMap((option) =>
      [option.short, option.long].filter((flag) => flag !== undefined),
    );
    const subcommands = command.commands.map((sub) => sub.name());
    for (const name of [command.name(), ...command.aliases()]) words.set(name, [...subcommands, ...options]);
  }
  // A Set: some of sbatch's options are also the command's own (--parsable, --wait, …).
  const submitWords = new Set(
    [...SBATCH_OPTIONS, ...CLIENT_OPTIONS].flatMap((option) => [
      `--${option.long}`,
      ...(option.short ? [`-${option.short}`] : []),
    ]),
  );
  words.set('submit', [...submitWords]);
  const cases = [...words].map(([name, list]) => `    ${name}) words="${list.join(' ')}" ;;`).join('\n');
  const body = `_conductor() {
  local cur=\${COMP_WORDS[COMP_CWORD]} words
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${[...words.keys()].join(' ')}" -- "$cur"))
    return
  fi
  case \${COMP_WORDS[1]} in
${cases}
    *) words="" ;;
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); else COMPREPLY=($(compgen -f -W "$words" -- "$cur")); fi
}
complete -F _conductor conductor
`;
  return shell === 'bash' ? body : `autoload -U +X bashcompinit && bashcompinit\n${body}`;
}
