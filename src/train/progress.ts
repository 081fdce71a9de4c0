import cliProgress from 'cli-progress';

export interface EpochProgress {
  update(done: number, loss: number, accuracy: number): void;
  stop(): void;
}

/**
 * One progress bar per epoch on stderr (cli-progress), showing the running mean loss and the
 * training accuracy at full dim. Where stderr is not a terminal, one summary line per epoch.
 */
export function epochProgress(epoch: number, epochs: number, total: number, enabled: boolean): EpochProgress {
  const stream = process.stderr;
  let last = { done: 0, loss: NaN, accuracy: NaN };
  const started = Date.now();
  const tty = enabled && stream.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          stream,
          format: `epoch ${epoch}/${epochs} [{bar}] {percentage}% {value}/{total} | loss {loss} | acc {acc} | {duration_formatted} eta {eta_formatted}`,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { loss: '-', acc: '-' });
  return {
    update(done, loss, accuracy) {
      last = { done, loss, accuracy };
      bar?.update(done, { loss: loss.toFixed(4), acc: accuracy.toFixed(4) });
    },
    stop() {
      bar?.stop();
      if (enabled && !tty) {
        const s = ((Date.now() - started) / 1000).toFixed(1);
        stream.write(`epoch ${epoch}/${epochs} ${last.done}/${total} loss ${last.loss.toFixed(4)} acc ${last.accuracy.toFixed(4)} ${s}s\n`);
      }
    },
  };
}
