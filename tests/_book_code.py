"""The book's own notebook code that the tests (and tests_compat/) feed to d2lutils or
compare it with: 3.2's data_iter and 8.5's from-scratch RNN functions, as the book writes
them (they live in the notebooks, not in d2l.torch)."""

import random

import torch


def data_iter(batch_size, features, labels):
    """3.2's data_iter: shuffled minibatches; a bad batch_size fails only at next()."""
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def rnn_scratch_parts():
    """8.5's get_params, init_rnn_state and rnn (a tanh RNN written by hand)."""

    def get_params(vocab_size, num_hiddens, device):
        num_inputs = num_outputs = vocab_size

        def normal(shape):
            return torch.randn(size=shape, device=device) * 0.01

        W_xh = normal((num_inputs, num_hiddens))
        W_hh = normal((num_hiddens, num_hiddens))
        b_h = torch.zeros(num_hiddens, device=device)
        W_hq = normal((num_hiddens, num_outputs))
        b_q = torch.zeros(num_outputs, device=device)
        params = [W_xh, W_hh, b_h, W_hq, b_q]
        for param in params:
            param.requires_grad_(True)
        return params

    def init_rnn_state(batch_size, num_hiddens, device):
        return (torch.zeros((batch_size, num_hiddens), device=device),)

    def rnn(inputs, state, params):
        # inputs: (num_steps, batch_size, vocab_size)
        W_xh, W_hh, b_h, W_hq, b_q = params
        H, = state
        outputs = []
        for X in inputs:
            H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
            Y = torch.mm(H, W_hq) + b_q
            outputs.append(Y)
        return torch.cat(outputs, dim=0), (H,)

    return get_params, init_rnn_state, rnn
