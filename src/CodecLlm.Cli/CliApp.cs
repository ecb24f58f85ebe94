using System.CommandLine;
using CodecLlm.Model;

namespace CodecLlm.Cli;

/// <summary>The `codecllm` command line: one file per verb under Commands/, registered here.</summary>
public static class CliApp
{
    public static RootCommand BuildRoot()
    {
        RootCommand root = new("CodecLLM: LLM inference with losslessly compressed weights");
        // Each verb lives in Commands/<Verb>Command.cs and is added here.
        root.Subcommands.Add(Commands.RunCommand.Create());
        root.Subcommands.Add(Commands.ChatCommand.Create());
        root.Subcommands.Add(Commands.BenchCommand.Create());
        root.Subcommands.Add(Commands.CompressCommand.Create());
        root.Subcommands.Add(Commands.InspectCommand.Create());
        root.Subcommands.Add(Commands.VerifyCommand.Create());
        root.Subcommands.Add(Commands.DemoCommand.Create());
        root.Subcommands.Add(Commands.ServeCommand.Create());
        root.Subcommands.Add(Commands.LoadTestCommand.Create());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        RootCommand root = BuildRoot();
        ParseResult parsed = root.Parse(args);
        InvocationConfiguration config = new() { EnableDefaultExceptionHandler = false };
        return await Guard(() => parsed.InvokeAsync(config));
    }

    /// <summary>
    /// Runs a verb and turns every failure into one line on stderr and a non-zero exit code:
    /// 1 for bad input (<see cref="CodecLlmException"/>), 130 for cancellation, 70 for anything else.
    /// </summary>
    public static async Task<int> Guard(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (CodecLlmException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: internal error ({e.GetType().Name}): {e.Message}");
            return 70;
        }
    }
}
